"""The connector of a client bot's "Test" page: the browser as a messenger."""

import uuid

from odoo.addons.chatbot_base.tools.connector import (
    Connector,
    InboundEvent,
    MalformedEvent,
    RateLimits,
    SenderProfile,
)

BROWSER = "browser"


class BrowserConnector(Connector):
    """The bot's "Test" page: an Odoo user plays a customer in their browser. Updates are what the page
    posts ({"id", "chat", "user", "text" | "button" | "contact_phone"}); sending needs no API, the page
    reads the dialog's messages."""

    provider = BROWSER
    label = "Browser (flow test)"

    def event_key(self, payload):
        return str(payload["id"]), str(payload["chat"])

    def parse(self, payload):
        try:
            user = payload["user"]
            text = str(payload.get("text") or "")
            command, _space, args = text[1:].partition(" ") if text.startswith("/") else ("", "", "")
            return [
                InboundEvent(
                    kind="button" if payload.get("button") else "message",
                    chat_id=str(payload["chat"]),
                    sender=SenderProfile(
                        external_id=str(user["id"]),
                        name=str(user.get("name") or ""),
                        lang=user.get("lang") or "",
                    ),
                    message_id=str(payload["id"]),
                    text=text,
                    command=command.lower(),
                    command_args=args.strip(),
                    button_data=str(payload.get("button") or ""),
                    contact_phone=str(payload.get("contact_phone") or ""),
                )
            ]
        except (KeyError, TypeError, AttributeError) as error:
            raise MalformedEvent(f"browser test: unreadable update ({error})") from error

    def send(self, message):
        return f"browser-{uuid.uuid4().hex[:12]}"

    def rate_limits(self):
        return RateLimits(per_second=1000, per_chat_per_second=1000, per_group_per_minute=1000)
