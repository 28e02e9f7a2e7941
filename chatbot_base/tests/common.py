"""Shared fixtures of the Bots tests: a fake messenger connector and a bot with a channel.

Other addons subclass ChatbotCase (as crm_livechat reuses im_livechat's test base)."""

import base64
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import new_test_user
from odoo.tests.common import TransactionCase

from odoo.addons.chatbot_base.models.chatbot_channel import ChatbotChannel
from odoo.addons.chatbot_base.tools.connector import (
    Connector,
    InboundEvent,
    InboundFile,
    RateLimits,
    SenderProfile,
    UnsupportedEvent,
)


class FakeConnector(Connector):
    """A messenger in memory. Updates are dicts: {"id", "chat", "user": {...}, "text", "kind", ...}.

    `FakeConnector.sent` records what was sent; `FakeConnector.script` lists what the next sends do
    (an exception to raise, or None to succeed)."""

    provider = "fake"
    label = "Fake messenger"
    sent = []
    script = []
    parse_error = None
    limits = RateLimits(per_second=1000, per_chat_per_second=1000, per_group_per_minute=1000)
    # a messenger with Telegram's limits on a text and a caption
    text_limit = 4096
    caption_limit = 1024

    def event_key(self, payload):
        return str(payload["id"]), str(payload.get("chat", ""))

    def parse(self, payload):
        if FakeConnector.parse_error:
            raise FakeConnector.parse_error
        if payload.get("kind") == "unsupported":
            raise UnsupportedEvent("poll answers are not handled")
        user = payload.get("user") or {"id": payload["chat"], "name": "Customer"}
        profile = SenderProfile(
            external_id=str(user["id"]),
            name=user.get("name", ""),
            username=user.get("username", ""),
            lang=user.get("lang", ""),
            phone=user.get("phone", ""),
            email=user.get("email", ""),
            photo=base64.b64decode(user["photo"]) if user.get("photo") else None,
        )
        files = [
            InboundFile(name=f["name"], mimetype=f.get("mimetype", "text/plain"), data=f["data"].encode())
            for f in payload.get("files", [])
        ]
        text = payload.get("text", "")
        command, _space, args = text[1:].partition(" ") if text.startswith("/") else ("", "", "")
        return [
            InboundEvent(
                kind=payload.get("kind", "message"),
                chat_id=str(payload["chat"]),
                sender=profile,
                message_id=str(payload.get("message_id", payload["id"])),
                text=text,
                command=command.lower(),
                command_args=args.strip(),
                button_data=payload.get("button", ""),
                contact_phone=payload.get("contact_phone", ""),
                files=files,
            )
        ]

    def send(self, message):
        action = FakeConnector.script.pop(0) if FakeConnector.script else None
        if action is not None:
            raise action
        FakeConnector.sent.append(message)
        return f"m{len(FakeConnector.sent)}"

    def rate_limits(self):
        return FakeConnector.limits

    def is_group_chat(self, chat_id):
        return str(chat_id).startswith("-")


@contextmanager
def fake_messenger():
    original = ChatbotChannel._chatbot_connector_classes

    def classes(self):
        return {**original(self), "fake": FakeConnector}

    FakeConnector.sent = []
    FakeConnector.script = []
    FakeConnector.parse_error = None
    with patch.object(ChatbotChannel, "_chatbot_connector_classes", classes):
        yield FakeConnector


def set_online(users):
    """Mark Odoo users online in the web client (their bus presence), as a browser tab would: with
    chatbot_livechat installed, routing offers dialogs to Odoo users only while they are online."""
    Presence = users.env["bus.presence"].sudo()
    for user in users:
        presence = Presence.search([("user_id", "=", user.id)])
        if presence:
            presence.status = "online"
        else:
            Presence.create({"user_id": user.id, "status": "online"})


def role_users(env, prefix):
    """One user per role of the Bots app: `<prefix>_admin`, `<prefix>_manager`, `<prefix>_user`."""
    return tuple(
        new_test_user(
            env, f"{prefix}_{role}", groups=f"base.group_user,chatbot_base.chatbot_base_group_{role}"
        )
        for role in ("admin", "manager", "user")
    )


class ChatbotCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = cls.enterClassContext(fake_messenger())
        cls.company = cls.env.company
        cls.company.country_id = cls.env.ref("base.ua")
        cls.bot_admin, cls.bot_manager, cls.bot_user = role_users(cls.env, "bot")
        cls.bot = cls.env["chatbot.bot"].create({"name": "Test bot", "bot_type": "client"})
        cls.channel = cls.env["chatbot.channel"].create(
            {"name": "Fake", "bot_id": cls.bot.id, "provider": "fake"}
        )
        cls.Inbound = cls.env["chatbot.inbound"]
        cls.Outbound = cls.env["chatbot.outbound"]

    def setUp(self):
        super().setUp()
        FakeConnector.sent = []
        FakeConnector.script = []
        FakeConnector.parse_error = None

    def receive(self, update_id, chat=1001, **values):
        """Store and process one update as the webhook and the queue would; returns the inbound row."""
        row_id = self.channel._chatbot_store_inbound({"id": update_id, "chat": chat, **values})
        row = self.Inbound.browse(row_id)
        if row_id:
            row._process_one()
        return row

    def dialog_of(self, chat=1001):
        return self.env["chatbot.dialog"].search(
            [("sender_id.external_id", "=", str(chat)), ("bot_id", "=", self.bot.id)],
            order="id desc",
            limit=1,
        )
