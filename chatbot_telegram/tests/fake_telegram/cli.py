"""The command line: ``python chatbot_telegram/tests/fake_telegram --port 8081`` (see ``__main__.py``)."""

# pylint: disable=except-pass

import argparse
import sys
import time

from .server import FakeTelegram


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fake Telegram Bot API server (for local development and tests)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="bot token to accept (repeatable); default: any",
    )
    parser.add_argument("--username", default="demo_bot", help="username of the --token bots")
    parser.add_argument("--global-rate", type=float, default=30, help="messages per second per bot")
    parser.add_argument("--chat-rate", type=float, default=1, help="messages per second per chat")
    parser.add_argument("--chat-burst", type=int, default=3)
    parser.add_argument(
        "--group-rate",
        type=float,
        default=20,
        help="messages per --group-window per group",
    )
    parser.add_argument("--group-window", type=float, default=60.0, help="seconds")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--retry-delay", type=float, default=5.0, help="seconds between webhook resends")
    parser.add_argument(
        "--delivery-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the webhook",
    )
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = parser.parse_args(argv)
    server = FakeTelegram(
        args.host,
        args.port,
        global_rate=args.global_rate,
        chat_rate=args.chat_rate,
        chat_burst=args.chat_burst,
        group_rate=args.group_rate,
        group_window=args.group_window,
        rate_limits=not args.no_rate_limits,
        retry_delay=args.retry_delay,
        delivery_timeout=args.delivery_timeout,
        auto_register_bots=not args.token,
        verbose=args.verbose,
    )
    for token in args.token:
        server.add_bot(token, username=args.username)
    server.start()
    sys.stdout.write(f"{server.base_url}\n")
    sys.stdout.write(
        f"Fake Telegram Bot API on {server.base_url} (API: {server.base_url}/bot<token>/<method>; "
        f"bots: {', '.join(args.token) or 'any token'}). Ctrl-C stops.\n"
    )
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
