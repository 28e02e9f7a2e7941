"""Updates to the bot: the queue, getUpdates long polling, setWebhook and webhook delivery with resends."""

import copy
import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .constants import SECRET_TOKEN_RE, UPDATE_TYPES_OFF_BY_DEFAULT
from .decoding import _normalize_params, _to_bool, _to_int
from .records import Delivery, _ApiError, _Bot, _Entry, _Ok
from .updates import (
    _default_bot_user,
    _update_chat_key,
    _update_type,
    _user_for,
    make_callback_update,
    make_contact_update,
    make_message_update,
    make_my_chat_member_update,
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # Telegram follows no redirect: a 3xx is a failed delivery


_WEBHOOK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class DeliveryMixin:
    """FakeTelegram's updates to the bot: the queue, getUpdates, setWebhook and webhook delivery."""

    # --- updates

    def push_update(self, token: str, update: dict) -> dict | None:
        """Queue an update for the bot (webhook delivery or getUpdates). Assigns ``update_id`` (increasing per
        bot) unless given. Returns the queued update, or None when the bot's allowed_updates filter it out."""
        update = copy.deepcopy(update)
        with self._cond:
            bot = self._require_bot(token)
            kind = _update_type(update)
            allowed = bot.allowed_updates
            if allowed:
                if kind not in allowed:
                    return None
            elif kind in UPDATE_TYPES_OFF_BY_DEFAULT:
                return None
            if "update_id" in update:
                update_id = int(update["update_id"])
            else:
                update_id = bot.next_update_id
            bot.next_update_id = max(bot.next_update_id, update_id + 1)
            ordered = {"update_id": update_id}
            ordered.update({k: v for k, v in update.items() if k != "update_id"})
            self._learn_from_update(token, ordered)
            bot.pending.append(
                _Entry(
                    update=ordered,
                    update_id=update_id,
                    chat_key=_update_chat_key(ordered),
                )
            )
            self._cond.notify_all()
            return copy.deepcopy(ordered)

    def push_message(
        self,
        token: str,
        chat_id: int,
        text: str | None,
        user: dict | None = None,
        **extra: Any,
    ):
        """``push_update(token, make_message_update(...))`` with a message id from this server's counter."""
        return self.push_update(token, self.make_message_update(chat_id, text, user, **extra))

    def make_message_update(
        self, chat_id: int, text: str | None, user: dict | None = None, **extra: Any
    ) -> dict:
        """Like the module's ``make_message_update`` but with the chat as registered here and a
        message id from the chat's counter; the message becomes known (copyMessage, replies)."""
        chat_id = int(chat_id)
        with self._cond:
            user = _user_for(chat_id, user)
            chat = self._chat_info_for(chat_id, user)
            message_id = extra.pop("message_id", None) or self._next_message_id(chat_id)
            update = make_message_update(chat_id, text, user, message_id=message_id, chat=chat, **extra)
            self._remember_message(update["message"])
            return update

    def make_callback_update(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        user: dict | None = None,
        *,
        token: str | None = None,
    ) -> dict:
        """A callback_query on the known message ``message_id`` (with its real reply_markup)."""
        chat_id = int(chat_id)
        with self._cond:
            user = _user_for(chat_id, user)
            message = self._messages.get((chat_id, int(message_id)))
            if message is None:
                bot = self._pick_bot(token)
                message = {
                    "message_id": int(message_id),
                    "from": bot.user if bot else _default_bot_user(),
                    "chat": self._chat_info_for(chat_id, user),
                    "date": int(time.time()),
                    "text": "...",
                }
            return make_callback_update(chat_id, data, int(message_id), user, message=message)

    def make_my_chat_member_update(
        self,
        chat_id: int,
        status: str,
        user: dict | None = None,
        *,
        token: str | None = None,
    ) -> dict:
        with self._cond:
            bot = self._pick_bot(token)
            update = make_my_chat_member_update(int(chat_id), status, user, bot=bot.user if bot else None)
            update["my_chat_member"]["chat"] = self._chat_info_for(
                int(chat_id), update["my_chat_member"]["from"]
            )
            return update

    def make_contact_update(
        self,
        chat_id: int,
        phone_number: str,
        user: dict | None = None,
        *,
        own: bool = True,
    ):
        chat_id = int(chat_id)
        with self._cond:
            update = make_contact_update(
                chat_id,
                phone_number,
                user,
                message_id=self._next_message_id(chat_id),
                own=own,
            )
            update["message"]["chat"] = self._chat_info_for(chat_id, update["message"]["from"])
            self._remember_message(update["message"])
            return update

    # --- API methods: webhook / updates

    def _webhook_info(self, bot: _Bot) -> dict:
        info: dict = {
            "url": bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending),
        }
        if bot.webhook_url:
            info["ip_address"] = "127.0.0.1"
        if bot.last_error_date:
            info["last_error_date"] = bot.last_error_date
            info["last_error_message"] = bot.last_error_message
        if bot.webhook_url:
            info["max_connections"] = bot.max_connections
            if bot.allowed_updates:
                info["allowed_updates"] = list(bot.allowed_updates)
        return info

    def _drop_pending(self, bot: _Bot) -> None:
        for entry in bot.pending:
            entry.dropped = True
        bot.pending = [e for e in bot.pending if e.in_flight]

    def _set_allowed_updates(self, bot: _Bot, value: Any) -> None:
        if value is None or value == "":
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _ApiError(400, "Bad Request: can't parse allowed updates JSON array")
        bot.allowed_updates = list(value)

    def _api_setWebhook(self, bot: _Bot, p: dict, files: dict) -> _Ok:
        url = str(p.get("url") or "")
        if _to_bool(p.get("drop_pending_updates")):
            self._drop_pending(bot)
        if not url:
            return self._delete_webhook(bot)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _ApiError(400, "Bad Request: invalid webhook URL specified")
        if self.require_https:
            if parts.scheme != "https":
                raise _ApiError(
                    400,
                    "Bad Request: bad webhook: HTTPS url must be provided for webhook",
                )
            if (parts.port or 443) not in (443, 80, 88, 8443):
                raise _ApiError(
                    400,
                    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
                )
        secret = p.get("secret_token")
        secret = None if secret in (None, "") else str(secret)
        if secret is not None:
            if len(secret) > 256:
                raise _ApiError(400, "Bad Request: secret token is too long")
            if not SECRET_TOKEN_RE.match(secret):
                raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = min(max(_to_int(p.get("max_connections"), 40), 1), 100)
        self._set_allowed_updates(bot, p.get("allowed_updates"))
        unchanged = (bot.webhook_url, bot.secret_token, bot.max_connections) == (
            url,
            secret,
            max_connections,
        )
        if bot.webhook_url != url:
            bot.last_error_date = None
            bot.last_error_message = None
        bot.webhook_url, bot.secret_token, bot.max_connections = (
            url,
            secret,
            max_connections,
        )
        bot.poll_gen += 1
        bot.poll_conflict = "Conflict: terminated by setWebhook request"
        self._ensure_workers(bot)
        self._cond.notify_all()
        return _Ok(True, "Webhook is already set" if unchanged else "Webhook was set")

    def _delete_webhook(self, bot: _Bot) -> _Ok:
        was_set = bool(bot.webhook_url)
        bot.webhook_url, bot.secret_token = "", None
        self._cond.notify_all()
        return _Ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _api_deleteWebhook(self, bot: _Bot, p: dict, files: dict) -> _Ok:
        if _to_bool(p.get("drop_pending_updates")):
            self._drop_pending(bot)
        return self._delete_webhook(bot)

    def _api_getWebhookInfo(self, bot: _Bot, p: dict, files: dict) -> dict:
        return self._webhook_info(bot)

    def _api_getUpdates(self, bot: _Bot, p: dict, files: dict) -> list:
        conflict = (
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
            "webhook first"
        )
        if bot.webhook_url:
            raise _ApiError(409, conflict)
        offset = _to_int(p.get("offset"))
        limit = min(max(_to_int(p.get("limit"), 100), 1), 100)
        timeout = max(_to_int(p.get("timeout")), 0)
        self._set_allowed_updates(bot, p.get("allowed_updates"))
        bot.poll_gen += 1
        bot.poll_conflict = (
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running"
        )
        generation = bot.poll_gen
        self._cond.notify_all()  # an older long poll of this bot now ends with 409
        if offset > 0:
            bot.pending = [e for e in bot.pending if e.update_id >= offset or e.in_flight]
        elif offset < 0:
            keep = bot.pending[offset:]
            bot.pending = keep
        deadline = time.monotonic() + timeout
        while True:
            updates = [e for e in bot.pending if not e.in_flight][:limit]
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self.stopping:
                return [copy.deepcopy(e.update) for e in updates]
            self._cond.wait(remaining)
            if bot.poll_gen != generation:
                raise _ApiError(409, bot.poll_conflict)
            if bot.webhook_url:
                raise _ApiError(409, "Conflict: terminated by setWebhook request")

    # --- delivery

    def _ensure_workers(self, bot: _Bot) -> None:
        bot.workers = [w for w in bot.workers if w.is_alive()]
        while len(bot.workers) < max(1, int(self.delivery_threads)):
            worker = threading.Thread(
                target=self._delivery_worker,
                args=(bot,),
                name=f"fake-telegram-webhook-{bot.id}-{len(bot.workers)}",
                daemon=True,
            )
            bot.workers.append(worker)
            worker.start()

    def _pick_entry(self, bot: _Bot, now: float) -> tuple[_Entry | None, float | None]:
        if not bot.webhook_url:
            return None, None
        if sum(1 for e in bot.pending if e.in_flight) >= bot.max_connections:
            return None, None
        busy_chats = set()
        next_due = None
        for entry in bot.pending:
            key = entry.chat_key
            if key is not None:
                if key in busy_chats:
                    continue
                busy_chats.add(key)
            if entry.in_flight:
                continue
            if entry.next_attempt > now:
                wait = entry.next_attempt - now
                next_due = wait if next_due is None else min(next_due, wait)
                continue
            return entry, None
        return None, next_due

    def _delivery_worker(self, bot: _Bot) -> None:
        while True:
            with self._cond:
                while True:
                    if self.stopping:
                        return
                    entry, wait = self._pick_entry(bot, time.monotonic())
                    if entry is not None:
                        break
                    self._cond.wait(min(wait, 1.0) if wait is not None else 1.0)
                entry.in_flight = True
                entry.attempts += 1
                attempt = entry.attempts
                url, secret = bot.webhook_url, bot.secret_token
                timeout = float(self.delivery_timeout)
                payload = json.dumps(entry.update, ensure_ascii=False).encode("utf-8")
            started = time.time()
            status, error, reply, reply_type = self._post_webhook(url, secret, payload, timeout)
            with self._cond:
                entry.in_flight = False
                ok = status is not None and 200 <= status < 300
                delivery = Delivery(
                    token=bot.token,
                    update_id=entry.update_id,
                    chat_id=entry.chat_key,
                    attempt=attempt,
                    url=url,
                    status=status,
                    error=error,
                    time=started,
                    duration=time.time() - started,
                    secret_token=secret,
                )
                if ok or entry.dropped:
                    if entry in bot.pending:
                        bot.pending.remove(entry)
                else:
                    bot.last_error_date = int(time.time())
                    bot.last_error_message = error
                    if attempt >= self.max_delivery_attempts:
                        delivery.gave_up = True
                        if entry in bot.pending:
                            bot.pending.remove(entry)
                    else:
                        entry.next_attempt = time.monotonic() + float(self.retry_delay)
                self._deliveries.append(delivery)
                self._cond.notify_all()
            if ok and reply and "json" in (reply_type or ""):
                self._webhook_reply(bot, reply)

    def _post_webhook(
        self, url: str, secret: str | None, payload: bytes, timeout: float
    ) -> tuple[int | None, str | None, bytes, str]:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        try:
            with _WEBHOOK_OPENER.open(request, timeout=timeout) as response:
                body = response.read()
                status = response.status
                if 200 <= status < 300:
                    return status, None, body, response.headers.get("Content-Type", "")
                return (
                    status,
                    f"Wrong response from the webhook: {status} {response.reason}",
                    b"",
                    "",
                )
        except urllib.error.HTTPError as exc:
            return (
                exc.code,
                f"Wrong response from the webhook: {exc.code} {exc.reason}",
                b"",
                "",
            )
        except urllib.error.URLError as exc:
            return None, self._describe_network_error(exc.reason), b"", ""
        except (OSError, http.client.HTTPException) as exc:
            return None, self._describe_network_error(exc), b"", ""

    @staticmethod
    def _describe_network_error(error: Any) -> str:
        if isinstance(error, ConnectionRefusedError):
            return "Connection refused"
        if isinstance(error, TimeoutError):
            return "Read timeout expired"
        if isinstance(error, http.client.RemoteDisconnected):
            return "Webhook connection closed"
        if isinstance(error, ConnectionResetError):
            return "Connection reset by peer"
        return str(error) or error.__class__.__name__

    def _webhook_reply(self, bot: _Bot, reply: bytes) -> None:
        try:
            payload = json.loads(reply.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
            return
        method = payload.pop("method")
        lowered = method.lower()
        if lowered.startswith("get") or lowered in (
            "setwebhook",
            "deletewebhook",
            "close",
            "logout",
        ):
            return
        self._api_call(
            "POST",
            bot.token,
            method,
            _normalize_params(payload),
            {},
            source="webhook_response",
        )
