import hmac
import json
import logging
import math

from odoo import http
from odoo.http import request

from odoo.addons.chatbot_base.tools.prefetch import prefetch_fields

_logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Telegram's updates are far smaller; anything bigger is not Telegram


def _refuse_constant(name):
    """NaN and Infinity are not JSON (Python accepts them, PostgreSQL's jsonb does not)."""
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    """1e400 reads as infinity in Python, which PostgreSQL's jsonb refuses."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number out of range")
    return value


def _has_nul(value):
    """Whether a decoded JSON value holds a NUL character, which PostgreSQL's jsonb refuses."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class ChatbotTelegramController(http.Controller):
    @http.route(
        "/chatbot/telegram/<string:key>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY,
    )
    def chatbot_telegram_webhook(self, key, **kwargs):
        """Telegram's webhook. Stores the update and answers at once; the inbound queue processes it
        after this transaction commits.

        Unknown key: 404. Wrong or missing secret: 403, nothing stored. Body over 1 MB: 413. A body
        that is not JSON, or an update we do not handle: 200 (so that Telegram stops resending), kept in
        the inbound queue as failed or ignored."""
        # sudo: the webhook has no user; the key and then the secret prove who calls
        # with its columns: one query for the channel
        Channel = request.env["chatbot.channel"].sudo()
        channel_sudo = Channel.search_fetch(
            [("webhook_key", "=", key), ("provider", "=", "telegram")], prefetch_fields(Channel), limit=1
        )
        if not channel_sudo or not channel_sudo.active:
            return request.make_json_response({"ok": False}, status=404)
        secret = request.httprequest.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        expected = channel_sudo.telegram_webhook_secret or ""
        if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
            _logger.warning("channel %s: webhook call with a wrong secret refused", channel_sudo.id)
            return request.make_json_response({"ok": False}, status=403)
        length = request.httprequest.content_length
        if length is not None and length > MAX_BODY:
            return request.make_json_response({"ok": False}, status=413)
        body = request.httprequest.get_data(cache=False)  # werkzeug refuses more than MAX_BODY: 413
        try:
            payload = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
            if _has_nul(payload):
                raise ValueError("NUL characters cannot be stored")  # PostgreSQL's jsonb refuses them
        except ValueError:
            _logger.info(
                "channel %s: a webhook body that is not JSON (%s bytes) was kept as failed",
                channel_sudo.id,
                len(body),
            )
            channel_sudo._chatbot_store_inbound(
                {"body_bytes": len(body)}, error=request.env._("The body is not JSON.")
            )
            return request.make_json_response({"ok": True})
        channel_sudo._chatbot_store_inbound(payload)
        return request.make_json_response({"ok": True})
