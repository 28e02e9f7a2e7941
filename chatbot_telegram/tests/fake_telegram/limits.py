"""Refusals: injected failures, blocked and migrated chats, rate limits with ``retry_after``."""

import math
import time
from collections import deque
from typing import Any

from .constants import _METHOD_NAMES, CHAT_STATE_METHODS, SEND_METHODS
from .decoding import _to_int
from .records import _ApiError, _Bot, _Chat, _Failure
from .updates import _chat_info


class LimitsMixin:
    """FakeTelegram's refusals: injected failures, blocked and migrated chats, rate limits."""

    # --- failures

    def fail_next(
        self,
        method: str | None = None,
        chat_id: Any = None,
        kind: str = "server_error",
        times: int | None = 1,
        *,
        retry_after: int = 5,
        migrate_to_chat_id: int | None = None,
        status: int = 500,
        seconds: float | None = None,
        description: str | None = None,
        parameters: dict | None = None,
    ) -> None:
        """Make the next ``times`` matching calls fail (``times=None``: until ``clear_failures``).

        ``method=None`` matches any sending method; ``chat_id=None`` any chat. Kinds: 'blocked' (403 bot was
        blocked by the user), 'deactivated' (403 user is deactivated), 'kicked' (403 bot was kicked from the
        group chat), 'migrate' (400 + ``parameters.migrate_to_chat_id``), 'server_error' (``status`` 500 or
        502), 'hang' (no answer; connection closed after ``seconds`` or at ``stop()``), 'retry_after'
        (429 with ``retry_after``), 'custom' (``status``, ``description``, ``parameters``)."""
        kinds = (
            "blocked",
            "deactivated",
            "kicked",
            "migrate",
            "server_error",
            "hang",
            "retry_after",
            "custom",
        )
        if kind not in kinds:
            raise ValueError(f"unknown failure kind {kind!r}; one of {', '.join(kinds)}")
        canonical = None
        if method is not None:
            canonical = _METHOD_NAMES.get(method.lower(), method)
        options = {
            "retry_after": retry_after,
            "migrate_to_chat_id": migrate_to_chat_id,
            "status": status,
            "seconds": seconds,
            "description": description,
            "parameters": parameters,
        }
        with self._cond:
            self._failures.append(_Failure(canonical, chat_id, kind, times, options))

    def clear_failures(self) -> None:
        with self._cond:
            self._failures.clear()

    def block_chat(self, chat_id: int, *, token: str | None = None, description: str | None = None) -> None:
        """Every send to ``chat_id`` (by ``token``, or by any bot) answers 403 until ``unblock_chat``."""
        with self._cond:
            self._blocked[(token, int(chat_id))] = description

    def unblock_chat(self, chat_id: int, *, token: str | None = None) -> None:
        with self._cond:
            self._blocked.pop((token, int(chat_id)), None)

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """The group ``chat_id`` became the supergroup ``new_chat_id``: every call to the old id answers 400
        with ``parameters.migrate_to_chat_id`` (persistent)."""
        with self._cond:
            self._migrated[int(chat_id)] = int(new_chat_id)
            if int(new_chat_id) not in self._chats:
                self._chats[int(new_chat_id)] = _Chat(id=int(new_chat_id), info=_chat_info(int(new_chat_id)))

    # --- rate limits

    def _window_wait(self, log: deque, limit: float, window: float, n: int, now: float) -> float:
        while log and log[0] <= now - window:
            log.popleft()
        tolerance = self.rate_tolerance * window
        recent = [t for t in log if t > now - window + tolerance]
        # a batch larger than the limit (an album) needs a free window, not an impossible one
        excess = len(recent) + min(n, max(int(limit), 1)) - int(limit)
        if excess <= 0:
            return 0.0
        return max(recent[excess - 1] + window - tolerance - now, 0.001)

    def _rate_check(self, bot: _Bot, chat_id: int, n: int, paid: bool) -> None:
        if not self.rate_limits:
            return
        now = time.monotonic()
        waits = [until - now for until in (bot.flood_until.get(None), bot.flood_until.get(chat_id)) if until]
        waits = [w for w in waits if w > 0]
        if waits:
            self._too_many(max(waits))
        limit = self.paid_rate if paid else self.global_rate
        violations: list[tuple[float, Any]] = []
        wait = self._window_wait(bot.global_log, limit, self.global_window, n, now)
        if wait:
            violations.append((wait, None))
        refill = self.chat_rate / self.chat_window
        tokens, last = bot.chat_buckets.get(chat_id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - last) * refill)
        needed = min(n, max(float(self.chat_burst), 1.0))  # an album may use the whole burst, then owes
        if tokens + self.rate_tolerance < needed:
            violations.append(((needed - self.rate_tolerance - tokens) / refill, chat_id))
        group_log = None
        if chat_id < 0:
            group_log = bot.group_logs.setdefault(chat_id, deque())
            wait = self._window_wait(group_log, self.group_rate, self.group_window, n, now)
            if wait:
                violations.append((wait, chat_id))
        if violations:
            wait, scope = max(violations, key=lambda v: v[0])
            retry_after = max(1, math.ceil(wait - 1e-6))
            if self.enforce_retry_after:
                bot.flood_until[scope] = now + retry_after
            self._too_many(retry_after)
        bot.global_log.extend([now] * n)
        bot.chat_buckets[chat_id] = (tokens - n, now)
        if group_log is not None:
            group_log.extend([now] * n)

    @staticmethod
    def _too_many(wait: float) -> None:
        retry_after = max(1, math.ceil(wait - 1e-6))
        raise _ApiError(
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )

    # --- at each call

    def _take_failure(self, method: str, params: dict) -> _Failure | None:
        for failure in self._failures:
            if failure.method is None:
                if method not in SEND_METHODS:
                    continue
            elif failure.method != method:
                continue
            if failure.chat_id is not None and str(failure.chat_id) != str(params.get("chat_id")):
                continue
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _failure_error(self, failure: _Failure, params: dict) -> _ApiError:
        options = failure.options
        kind = failure.kind
        if kind == "blocked":
            return _ApiError(403, options["description"] or "Forbidden: bot was blocked by the user")
        if kind == "deactivated":
            return _ApiError(403, options["description"] or "Forbidden: user is deactivated")
        if kind == "kicked":
            return _ApiError(
                403,
                options["description"] or "Forbidden: bot was kicked from the group chat",
            )
        if kind == "migrate":
            new_id = options["migrate_to_chat_id"]
            if new_id is None:
                old = _to_int(params.get("chat_id"))
                new_id = int(f"-100{abs(old)}") if old else -1001234567890
            description = (
                options["description"] or "Bad Request: group chat was upgraded to a supergroup chat"
            )
            return _ApiError(400, description, {"migrate_to_chat_id": new_id})
        if kind == "retry_after":
            seconds = int(options["retry_after"])
            return _ApiError(
                429,
                f"Too Many Requests: retry after {seconds}",
                {"retry_after": seconds},
            )
        if kind == "server_error":
            status = int(options["status"] or 500)
            default = {
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }
            return _ApiError(
                status,
                options["description"] or default.get(status, "Internal Server Error"),
            )
        return _ApiError(
            int(options["status"]),
            options["description"] or "Bad Request",
            options["parameters"],
        )

    def _check_chat_state(self, bot: _Bot, method: str, params: dict) -> None:
        if method not in CHAT_STATE_METHODS:
            return
        chat_id = _to_int(params.get("chat_id"))
        if not chat_id:
            return
        if chat_id in self._migrated:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        for key in ((bot.token, chat_id), (None, chat_id)):
            if key in self._blocked:
                description = self._blocked[key]
                if description is None:
                    chat_type = self._chats[chat_id].info.get("type") if chat_id in self._chats else None
                    if chat_id > 0:
                        description = "Forbidden: bot was blocked by the user"
                    elif chat_type == "supergroup" or chat_id <= -1000000000000:
                        description = "Forbidden: bot was kicked from the supergroup chat"
                    else:
                        description = "Forbidden: bot was kicked from the group chat"
                raise _ApiError(403, description)
