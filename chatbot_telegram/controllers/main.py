import hmac
import json
import logging
import math
import re

from psycopg2.errors import SerializationFailure

from odoo import http
from odoo.http import request

from odoo.addons.chatbot_base.tools.prefetch import prefetch_fields

_logger = logging.getLogger(__name__)
# stores of one webhook call in a new snapshot each, before Odoo's retry of the whole request takes over
STORE_ATTEMPTS = 4

MAX_BODY = 1024 * 1024  # Telegram's updates are far smaller; anything bigger is not Telegram
# Telegram's updates nest a few levels (an update, its message, the message it replies to, an entity's
# user); deeper is not Telegram, and near Python's recursion limit decoding or storing it would fail
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins the pairs: what is left is a lone half


def _refuse_constant(name):
    """NaN and Infinity are not JSON (Python accepts them, PostgreSQL's jsonb does not)."""
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    """1e400 reads as infinity in Python, which PostgreSQL's jsonb refuses."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number out of range")
    return value


def _read_update(body):
    """(payload, None) for a body that can be stored as an update, else (None, why): "json" (not JSON),
    "nesting" (deeper than MAX_DEPTH) or "characters" (NUL, or a lone UTF-16 surrogate such as `"\\ud800"`:
    Python accepts them, UTF-8 and PostgreSQL's jsonb do not)."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # deeper than Python's recursion limit
        return None, "nesting"
    except ValueError:  # not UTF-8 (UnicodeDecodeError), not JSON, an integer of over 4,300 digits
        return None, "json"
    # iterative: a recursive walk of a deep value would itself exceed Python's recursion limit
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value or _SURROGATE.search(value):
                return None, "characters"
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return None, "nesting"
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                value = value.values()
            stack.extend((item, depth + 1) for item in value)
    return payload, None


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

        Unknown key: 404. Wrong or missing secret: 403, nothing stored. Body over 1 MB: 413. Any other
        body gets 200 (so that Telegram stops resending): an update is stored once however often and
        however concurrently it comes; a body that is not JSON, that nests too deep or that holds
        characters the database refuses is kept in the inbound queue as failed, an update we do not
        handle as ignored."""
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
        # werkzeug refuses more than MAX_BODY: 413. Cached: when Odoo runs the request again after a
        # serialization failure, the body must read the same, not as the empty rest of the stream.
        body = request.httprequest.get_data()
        payload, unreadable = _read_update(body)
        if unreadable:
            _logger.info(
                "channel %s: a webhook body that cannot be stored (%s, %s bytes) was kept as failed",
                channel_sudo.id,
                unreadable,
                len(body),
            )
            channel_sudo._chatbot_store_inbound(
                {"body_bytes": len(body)}, error=self._chatbot_unreadable_error(unreadable)
            )
            return request.make_json_response({"ok": True})
        for attempt in range(STORE_ATTEMPTS):
            try:
                channel_sudo._chatbot_store_inbound(payload)
                break
            except SerializationFailure:
                # Telegram sent the update again while another worker or server stored the first copy, or
                # processed it (claimed it, marked it done), in a transaction that committed after this one
                # began: PostgreSQL refuses the conflicting insert under REPEATABLE READ. This transaction
                # holds nothing else: a new one sees the row and stores nothing, at once (Odoo's retry of
                # the whole request would wait up to 2 s first). Processing changes the row a few times:
                # a few new snapshots at most.
                if attempt == STORE_ATTEMPTS - 1:
                    raise
                request.env.cr.rollback()
        return request.make_json_response({"ok": True})

    def _chatbot_unreadable_error(self, unreadable):
        """What the inbound queue shows for a body that `_read_update` refused."""
        if unreadable == "nesting":
            return request.env._("The body nests deeper than %(depth)s levels.", depth=MAX_DEPTH)
        if unreadable == "characters":
            return request.env._(
                "The body holds characters the database cannot store (NUL or a lone UTF-16 surrogate)."
            )
        return request.env._("The body is not JSON.")
