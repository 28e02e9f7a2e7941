"""A fake Telegram Bot API server for tests and local development (standard library only).

It speaks the Bot API's HTTP protocol on 127.0.0.1: ``POST|GET {base_url}/bot<token>/<method>`` with the
parameters as a JSON body, as a urlencoded form or as multipart/form-data (uploads), and answers with
Telegram's envelopes (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description":
"...", "parameters": {...}}``, HTTP status = error_code). It copies the behaviour listed in
``/work/shared/TELEGRAM.md``: text/caption/callback_data limits, HTML entity parsing (a port of TDLib's
parser, so error descriptions are Telegram's), rate limits with ``retry_after``, webhook delivery with the
secret header and resends, getUpdates long polling with offsets, files, forum topics.

In-process use (tests)::

    from fake_telegram import FakeTelegram, make_message_update

    with FakeTelegram(retry_delay=0.05) as server:          # binds 127.0.0.1 on a free port
        server.add_bot("123456:ABC-token", username="demo_bot")
        api = f"{server.base_url}/bot123456:ABC-token"     # point the code under test here
        ...                                                  # the code under test calls sendMessage
        assert server.sent_messages(chat_id=42)[0]["text"] == "Hello"
        server.push_update("123456:ABC-token", server.make_message_update(42, "/start"))
        server.fail_next("sendMessage", chat_id=42, kind="blocked")     # next send to 42: 403
        server.block_chat(43)                                            # every send to 43: 403

Command line (point a local Odoo at it)::

    python chatbot_telegram/tests/fake_telegram --port 8081 [--global-rate 30] [--token 123456:ABC]

It prints its base URL and runs until Ctrl-C. Without ``--token`` any well-formed token is accepted.
Control endpoints let a developer inject updates: ``POST /_fake/bot<token>/pushUpdate`` (body: an update),
``POST /_fake/bot<token>/pushMessage`` (body: ``{"chat_id": 42, "text": "hi"}``),
``POST /_fake/bot<token>/pushCallback`` (body: ``{"chat_id": 42, "data": "x", "message_id": 7}``),
``GET /_fake/calls``, ``GET /_fake/sent[?chat_id=42]``, ``POST /_fake/reset``.

Deliberate differences from Telegram (documented so nobody is surprised):

* webhook URLs may be plain ``http://`` on any port (``require_https=True`` enforces Telegram's rule);
* with ``strict_html=True`` (default) a bare ``&`` in HTML text is refused, as the Bot API documentation
  requires, although TDLib itself lets it through;
* with ``strict=False`` (default) references to things the fake has never seen (callback query ids,
  messages to copy/edit/reply to, file ids, chats, users) are accepted; ``strict=True`` answers them the way
  Telegram does ("query is too old ...", "message to copy not found", "chat not found", ...);
* messages report ``reply_markup`` only for inline keyboards, like Telegram; ``Call.params`` keeps what
  the client sent.

The package's modules: ``server`` (``FakeTelegram``: state, lifecycle, records, HTTP entry), its mixins
``sending``, ``files``, ``topics`` (forum topics), ``delivery`` (the update queue, getUpdates, webhooks) and
``limits`` (injected failures, rate limits); ``telegram_html`` (the parse mode), ``updates`` (update
builders), ``records``, ``constants``, ``decoding`` and ``httpd`` (request plumbing), ``cli``.
"""

from .cli import main
from .records import Call, Delivery, UploadedFile
from .server import FakeTelegram
from .telegram_html import HtmlParseError, parse_html
from .updates import (
    default_user,
    incompressible_digits,
    make_callback_update,
    make_contact_update,
    make_message_update,
    make_my_chat_member_update,
)

__all__ = [
    "Call",
    "Delivery",
    "FakeTelegram",
    "HtmlParseError",
    "UploadedFile",
    "default_user",
    "incompressible_digits",
    "make_callback_update",
    "make_contact_update",
    "make_message_update",
    "make_my_chat_member_update",
    "parse_html",
]
