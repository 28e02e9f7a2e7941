"""The server: ``FakeTelegram``, its state, lifecycle, records and HTTP entry; the Bot API methods are in
its mixins (files, limits, delivery, sending, topics)."""

import copy
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .constants import _METHOD_NAMES, _RATE_SETTINGS, MESSAGE_UPDATE_TYPES, SETTINGS, TOKEN_RE
from .decoding import _normalize_params, _parse_multipart, _to_int
from .delivery import DeliveryMixin
from .files import FilesMixin
from .httpd import _HTTPServer, _json_reply
from .limits import LimitsMixin
from .records import Call, Delivery, _ApiError, _Bot, _Chat, _error, _Failure, _File, _Hang, _Ok
from .sending import SendingMixin
from .topics import TopicsMixin
from .updates import _chat_info, _update_type


class FakeTelegram(FilesMixin, LimitsMixin, DeliveryMixin, SendingMixin, TopicsMixin):
    """A fake Bot API server: see the module docstring. All state is behind one lock; thread-safe.

    Rates are "``*_rate`` messages per ``*_window`` seconds": global per bot, per chat (token bucket with
    ``chat_burst`` capacity), per group chat (negative ids). ``rate_tolerance`` (a fraction of the window,
    resp. of one token) absorbs network jitter, so a client pacing itself at exactly the limit passes while
    one 10 % faster is refused. A refused send is answered 429 with ``retry_after`` (whole seconds, >= 1);
    with ``enforce_retry_after`` every send in that scope (bot, or bot+chat) is refused until it passes.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        global_rate: float = 30,
        global_window: float = 1.0,
        chat_rate: float = 1,
        chat_window: float = 1.0,
        chat_burst: int = 3,
        group_rate: float = 20,
        group_window: float = 60.0,
        paid_rate: float = 1000,
        rate_tolerance: float = 0.05,
        rate_limits: bool = True,
        enforce_retry_after: bool = True,
        retry_delay: float = 0.2,
        delivery_timeout: float = 10.0,
        max_delivery_attempts: int = 5,
        delivery_threads: int = 4,
        strict: bool = False,
        strict_html: bool = True,
        require_https: bool = False,
        auto_register_bots: bool = False,
        verbose: bool = False,
    ):
        self.host = host
        self.port = port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop_event = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._bots: dict[str, _Bot] = {}
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._message_seq: dict[int, int] = {}
        self._files: dict[str, _File] = {}
        self._file_paths: dict[tuple[str, str], str] = {}
        self._file_seq = 0
        self._profile_photos: dict[tuple[str, int], list] = {}
        self._callbacks: dict[str, dict] = {}
        self._calls: list[Call] = []
        self._deliveries: list[Delivery] = []
        self._sent: list[tuple[str, dict]] = []
        self._failures: list[_Failure] = []
        self._blocked: dict[tuple[str | None, int], str | None] = {}
        self._migrated: dict[int, int] = {}
        self._media_group_seq = itertools.count(13700000000000000)
        self.global_rate = global_rate
        self.global_window = global_window
        self.chat_rate = chat_rate
        self.chat_window = chat_window
        self.chat_burst = chat_burst
        self.group_rate = group_rate
        self.group_window = group_window
        self.paid_rate = paid_rate
        self.rate_tolerance = rate_tolerance
        self.rate_limits = rate_limits
        self.enforce_retry_after = enforce_retry_after
        self.retry_delay = retry_delay
        self.delivery_timeout = delivery_timeout
        self.max_delivery_attempts = max_delivery_attempts
        self.delivery_threads = delivery_threads
        self.strict = strict
        self.strict_html = strict_html
        self.require_https = require_https
        self.auto_register_bots = auto_register_bots
        self.verbose = verbose

    # --- lifecycle

    def start(self) -> "FakeTelegram":
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeTelegram already started")
        self._stop_event.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down quickly: wakes long polls and delivery threads, releases hanging requests."""
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def api_url(self, token: str) -> str:
        return f"{self.base_url}/bot{token}"

    def file_url(self, token: str, file_path: str) -> str:
        return f"{self.base_url}/file/bot{token}/{file_path}"

    def configure(self, **settings: Any) -> None:
        """Change settings at run time (any constructor keyword but host/port). Changing a rate setting
        clears the rate-limit windows and flood waits."""
        unknown = set(settings) - set(SETTINGS)
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        with self._cond:
            for key, value in settings.items():
                setattr(self, key, value)
            if _RATE_SETTINGS & set(settings):
                self._clear_rate_state()
            self._cond.notify_all()

    # --- world setup

    def add_bot(
        self,
        token: str,
        username: str = "demo_bot",
        first_name: str = "Demo",
        *,
        first_update_id: int = 1,
    ) -> dict:
        """Register a bot token (``<digits>:<secret>``); returns its getMe result."""
        match = TOKEN_RE.match(token)
        if not match:
            raise ValueError(f"not a bot token: {token!r} (expected '123456:ABC...')")
        with self._cond:
            bot = _Bot(
                token=token,
                id=int(match.group(1)),
                username=username,
                first_name=first_name,
            )
            bot.next_update_id = first_update_id
            self._bots[token] = bot
            return self._get_me(bot)

    def add_chat(
        self,
        chat_id: int,
        type: str | None = None,
        *,
        title: str | None = None,
        is_forum: bool = False,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict:
        """Register a chat (needed for forums: ``add_chat(-100123, type='supergroup', is_forum=True)``)."""
        chat_id = int(chat_id)
        info = _chat_info(chat_id)
        if type is not None:
            info["type"] = type
        if info["type"] == "private":
            info.pop("title", None)
            info["first_name"] = first_name or info.get("first_name") or f"User {chat_id}"
            if last_name:
                info["last_name"] = last_name
        else:
            for key in ("first_name", "last_name"):
                info.pop(key, None)
            info["title"] = title or info.get("title") or f"Chat {chat_id}"
        if username:
            info["username"] = username
        if is_forum:
            info["type"] = "supergroup"
            info["is_forum"] = True
        with self._cond:
            self._chats[chat_id] = _Chat(id=chat_id, info=info, is_forum=is_forum)
            return copy.deepcopy(info)

    # --- records

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def calls_for(self, method: str, chat_id: Any = None, *, token: str | None = None) -> list[Call]:
        """Recorded calls of ``method`` (case-insensitive), optionally to ``chat_id`` / from ``token``."""
        with self._lock:
            return [
                c
                for c in self._calls
                if c.method.lower() == method.lower()
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
                and (token is None or c.token == token)
            ]

    def sent_messages(self, chat_id: Any = None, *, token: str | None = None) -> list[dict]:
        """Messages successfully sent by bots (sendMessage/Photo/Document/MediaGroup, copyMessage), in order,
        as Telegram returned them (for copyMessage: the full copy)."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for t, m in self._sent
                if (chat_id is None or str(m["chat"]["id"]) == str(chat_id)) and (token is None or t == token)
            ]

    def get_message(self, chat_id: int, message_id: int) -> dict | None:
        """The current state of a message known to the fake (sent, pushed, edited), or None."""
        with self._lock:
            message = self._messages.get((int(chat_id), int(message_id)))
            return copy.deepcopy(message) if message else None

    def topics(self, chat_id: int) -> dict[int, dict]:
        """Forum topics of a registered chat: ``{message_thread_id: {name, icon_color, closed, ...}}``."""
        with self._lock:
            chat = self._chats.get(int(chat_id))
            return copy.deepcopy(chat.topics) if chat else {}

    def pending_updates(self, token: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e.update) for e in self._require_bot(token).pending]

    def webhook_info(self, token: str) -> dict:
        with self._lock:
            return self._webhook_info(self._require_bot(token))

    def reset(self) -> None:
        """Forget recorded calls, deliveries and sent messages; drop failure rules, blocked/migrated chats and
        rate-limit state. Bots, chats, files, known messages, webhooks and pending updates stay."""
        with self._cond:
            self._calls.clear()
            self._deliveries.clear()
            self._sent.clear()
            self._failures.clear()
            self._blocked.clear()
            self._migrated.clear()
            self._clear_rate_state()
            self._cond.notify_all()

    def wait_until(self, predicate: Any, timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` is true (re-checked on every state change); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stopping:
                    return bool(predicate())
                self._cond.wait(min(remaining, 0.05))

    def wait_for_calls(
        self, method: str, count: int = 1, chat_id: Any = None, timeout: float = 5.0
    ) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` were answered; returns them (maybe fewer)."""
        self.wait_until(
            lambda: sum(1 for c in self.calls_for(method, chat_id) if c.status is not None) >= count,
            timeout,
        )
        return self.calls_for(method, chat_id)

    def wait_idle(self, token: str | None = None, timeout: float = 5.0) -> bool:
        """Wait until no webhook delivery is pending (for one bot or all bots with a webhook)."""

        def idle() -> bool:
            bots = [self._bots[token]] if token else list(self._bots.values())
            return all(not b.pending for b in bots if b.webhook_url)

        return self.wait_until(idle, timeout)

    # ============================================================================================== internals

    def _require_bot(self, token: str) -> _Bot:
        bot = self._get_bot(token)
        if bot is None:
            raise KeyError(f"unknown bot token {token!r}; call add_bot() first")
        return bot

    def _get_bot(self, token: str) -> _Bot | None:
        bot = self._bots.get(token)
        if bot is None and self.auto_register_bots and TOKEN_RE.match(token or ""):
            self.add_bot(token, username=f"bot{token.split(':')[0]}_bot", first_name="Fake bot")
            bot = self._bots[token]
        return bot

    def _pick_bot(self, token: str | None) -> _Bot | None:
        if token:
            return self._require_bot(token)
        return next(iter(self._bots.values()), None)

    def _get_me(self, bot: _Bot) -> dict:
        return {
            "id": bot.id,
            "is_bot": True,
            "first_name": bot.first_name,
            "username": bot.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _clear_rate_state(self) -> None:
        for bot in self._bots.values():
            bot.global_log.clear()
            bot.chat_buckets.clear()
            bot.group_logs.clear()
            bot.flood_until.clear()

    def _next_message_id(self, chat_id: int) -> int:
        self._message_seq[chat_id] = self._message_seq.get(chat_id, 0) + 1
        return self._message_seq[chat_id]

    def _chat_info_for(self, chat_id: int, user: dict | None = None) -> dict:
        chat = self._chats.get(chat_id)
        if chat is not None:
            return copy.deepcopy(chat.info)
        return _chat_info(chat_id, user)

    def _remember_message(self, message: dict) -> None:
        chat = message.get("chat") or {}
        if "id" not in chat or "message_id" not in message:
            return
        chat_id, message_id = int(chat["id"]), int(message["message_id"])
        self._messages[(chat_id, message_id)] = copy.deepcopy(message)
        self._message_seq[chat_id] = max(self._message_seq.get(chat_id, 0), message_id)

    def _learn_from_update(self, token: str, update: dict) -> None:
        kind = _update_type(update)
        body = update.get(kind)
        if not isinstance(body, dict):
            return
        user = body.get("from")
        if isinstance(user, dict) and "id" in user:
            self._users[int(user["id"])] = copy.deepcopy(user)
        chat = body.get("chat")
        if isinstance(chat, dict) and "id" in chat:
            known = self._chats.get(int(chat["id"]))
            if known is None or not known.known:
                self._chats[int(chat["id"])] = _Chat(
                    id=int(chat["id"]),
                    info=copy.deepcopy(chat),
                    is_forum=bool(chat.get("is_forum")),
                )
        if kind in MESSAGE_UPDATE_TYPES:
            self._remember_message(body)
        if kind == "callback_query" and "id" in body:
            self._callbacks[str(body["id"])] = {"token": token, "answered": False}
            message = body.get("message")
            if (
                isinstance(message, dict)
                and isinstance(message.get("chat"), dict)
                and "message_id" in message
            ):
                key = (
                    _to_int(message["chat"].get("id")),
                    _to_int(message["message_id"]),
                )
                if key not in self._messages:
                    self._remember_message(message)

    # --- HTTP entry

    def _handle_http(
        self, verb: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, str, bytes] | _Hang:
        parts = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(parts.path)
        if path.startswith("/file/bot"):
            return self._download(path[len("/file/bot") :])
        if path.startswith("/_fake/"):
            return self._control(verb, path[len("/_fake/") :], parts.query, body)
        if not path.startswith("/bot") or "/" not in path[4:]:
            return _json_reply(404, _error(404, "Not Found"))
        token, _, method = path[4:].partition("/")
        try:
            params, files = self._decode(headers, body, parts.query)
        except _ApiError as exc:
            return _json_reply(exc.code, exc.envelope())
        reply = self._api_call(verb, token, method, params, files)
        if isinstance(reply, _Hang):
            return reply
        return _json_reply(*reply)

    def _decode(self, headers: Any, body: bytes, query: str) -> tuple[dict, dict]:
        params: dict = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        files: dict = {}
        content_type = headers.get("Content-Type", "") or ""
        mime = content_type.split(";")[0].strip().lower()
        if body:
            if mime == "application/json":
                try:
                    decoded = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise _ApiError(400, "Bad Request: can't parse JSON object") from None
                if isinstance(decoded, dict):
                    params.update(decoded)
            elif mime == "multipart/form-data":
                fields, files = _parse_multipart(body, content_type)
                params.update(fields)
            else:
                params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return _normalize_params(params), files

    def _download(self, rest: str) -> tuple[int, str, bytes]:
        token, _, file_path = rest.partition("/")
        with self._lock:
            file_id = self._file_paths.get((token, file_path))
            f = self._files.get(file_id) if file_id else None
            if f is None or token not in self._bots:
                return _json_reply(404, _error(404, "Not Found"))
            content = f.content or b""
            mime = f.mime_type or "application/octet-stream"
        return 200, mime, content

    def _hang(self, seconds: float | None) -> None:
        self._stop_event.wait(seconds)

    def _api_call(
        self,
        verb: str,
        token: str,
        method: str,
        params: dict,
        files: dict,
        source: str = "http",
    ) -> tuple[int, dict] | _Hang:
        with self._cond:
            call = Call(
                token=token,
                method=method,
                params=params,
                files=files,
                time=time.time(),
                http_method=verb,
                source=source,
            )
            bot = self._get_bot(token)
            if bot is None:
                return self._finish(call, 401, _error(401, "Unauthorized"))
            canonical = _METHOD_NAMES.get(method.lower())
            if canonical is None:
                return self._finish(call, 404, _error(404, "Not Found"))
            call.method = canonical
            failure = self._take_failure(canonical, params)
            if failure is not None and failure.kind == "hang":
                call.hung = True
                self._calls.append(call)
                self._cond.notify_all()
                return _Hang(failure.options["seconds"])
            try:
                if failure is not None:
                    raise self._failure_error(failure, params)
                self._check_chat_state(bot, canonical, params)
                result = getattr(self, f"_api_{canonical}", self._api_noop)(bot, params, files)
            except _ApiError as exc:
                return self._finish(call, exc.code, exc.envelope())
            if isinstance(result, _Ok):
                envelope = {"ok": True, "result": result.result}
                if result.description:
                    envelope["description"] = result.description
            else:
                envelope = {"ok": True, "result": result}
            return self._finish(call, 200, envelope)

    def _finish(self, call: Call, status: int, envelope: dict) -> tuple[int, dict]:
        call.status = status
        call.response = envelope
        self._calls.append(call)
        self._cond.notify_all()
        return status, envelope

    # --- control API

    def _control(self, verb: str, path: str, query: str, body: bytes) -> tuple[int, str, bytes]:
        args = dict(urllib.parse.parse_qsl(query))
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError):
            return _json_reply(400, _error(400, "Bad Request: body must be JSON"))
        try:
            if path == "calls":
                return _json_reply(200, {"ok": True, "result": [c.as_dict() for c in self.calls]})
            if path == "sent":
                return _json_reply(200, {"ok": True, "result": self.sent_messages(args.get("chat_id"))})
            if path == "reset" and verb == "POST":
                self.reset()
                return _json_reply(200, {"ok": True, "result": True})
            if path.startswith("bot") and verb == "POST":
                token, _, action = path[3:].partition("/")
                with self._cond:
                    self._require_bot(token)
                if action == "pushUpdate":
                    result = self.push_update(token, payload)
                elif action == "pushMessage":
                    chat_id = int(payload["chat_id"])
                    extra = {k: v for k, v in payload.items() if k not in ("chat_id", "text", "user")}
                    result = self.push_message(
                        token,
                        chat_id,
                        payload.get("text"),
                        payload.get("user"),
                        **extra,
                    )
                elif action == "pushCallback":
                    update = self.make_callback_update(
                        int(payload["chat_id"]),
                        payload["data"],
                        int(payload["message_id"]),
                        payload.get("user"),
                    )
                    result = self.push_update(token, update)
                else:
                    return _json_reply(404, _error(404, "Not Found"))
                return _json_reply(200, {"ok": True, "result": result})
        except KeyError as exc:
            return _json_reply(400, _error(400, f"Bad Request: {exc.args[0]}"))
        except (TypeError, ValueError) as exc:
            return _json_reply(400, _error(400, f"Bad Request: {exc}"))
        return _json_reply(404, _error(404, "Not Found"))

    # --- API methods

    def _api_noop(self, bot: _Bot, p: dict, files: dict) -> Any:
        return True

    def _api_getMe(self, bot: _Bot, p: dict, files: dict) -> dict:
        return self._get_me(bot)

    def _api_setMyCommands(self, bot: _Bot, p: dict, files: dict) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        bot.commands = copy.deepcopy(commands)
        return True

    def _api_getMyCommands(self, bot: _Bot, p: dict, files: dict) -> list:
        return copy.deepcopy(bot.commands)

    def _api_getChat(self, bot: _Bot, p: dict, files: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"))
        return {
            **copy.deepcopy(chat.info),
            "accent_color_id": 0,
            "max_reaction_count": 11,
        }
