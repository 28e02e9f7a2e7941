"""The fake Telegram Bot API server, as a package: see ``server.py``."""

from .server import (
    Call,
    Delivery,
    FakeTelegram,
    HtmlParseError,
    UploadedFile,
    default_user,
    main,
    make_callback_update,
    make_contact_update,
    make_message_update,
    make_my_chat_member_update,
    parse_html,
)

__all__ = [
    "Call",
    "Delivery",
    "FakeTelegram",
    "HtmlParseError",
    "UploadedFile",
    "default_user",
    "make_callback_update",
    "make_contact_update",
    "make_message_update",
    "make_my_chat_member_update",
    "parse_html",
]
