from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.chatbot_base.tools.connector import (
    Connector,
    InboundEvent,
    MalformedEvent,
    RateLimits,
    RecipientBlocked,
    SenderProfile,
)

LIVECHAT = "livechat"


class LivechatConnector(Connector):
    """The website live chat as a messenger. Updates are the visitor's messages in their live chat session,
    stored by `discuss.channel._message_post_after_hook`: {"id", "chat" (the session), "user", "text",
    "first"}. Sending posts into the session as the bot's contact; answer buttons ride on the message and the
    widget shows them."""

    provider = LIVECHAT
    label = "Odoo live chat"

    def event_key(self, payload):
        return str(payload["id"]), str(payload["chat"])

    def parse(self, payload):
        try:
            user = payload["user"]
            text = str(payload.get("text") or "").strip()
            command, _space, args = text[1:].partition(" ") if text.startswith("/") else ("", "", "")
            if payload.get("first") and not command:
                # the widget has no Start button: the visitor's first message of a session starts the bot
                command = "start"
            return [
                InboundEvent(
                    kind="message",
                    chat_id=str(payload["chat"]),
                    sender=SenderProfile(
                        external_id=str(user["id"]),
                        name=str(user.get("name") or ""),
                        lang=str(user.get("lang") or ""),
                        email=str(user.get("email") or ""),
                    ),
                    message_id=str(payload["id"]),
                    text=text,
                    command=command.lower(),
                    command_args=args.strip(),
                    button_data=str(payload.get("button") or ""),
                )
            ]
        except (KeyError, TypeError, AttributeError) as error:
            raise MalformedEvent(f"live chat: unreadable update ({error})") from error

    def send(self, message):
        # sudo: the bot writes into its own live chat session with the visitor
        session = self.env["discuss.channel"].sudo().browse(int(message.chat_id)).exists()
        return str(self.post(session, message).id)

    def post(self, session, message):
        """Post an OutboundMessage into the visitor's live chat session as the bot's contact; returns the
        mail.message. A session is a table of this database: posting in the transaction that made the
        message is safe (a replayed request rolls it back with the rest)."""
        if not session or session.channel_type != "livechat" or not session.livechat_active:
            raise RecipientBlocked("the visitor left the live chat")
        body = escape(message.text or "").replace("\n", Markup("<br/>"))
        buttons = [
            {"label": button.label, "data": button.data, "url": button.url}
            for row in message.buttons
            for button in row
        ]
        return (
            session.sudo()
            .with_context(chatbot_no_relay=True)
            .message_post(
                body=body,
                author_id=self.channel.bot_id._chatbot_livechat_partner().id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                attachment_ids=list(message.attachment_ids),
                chatbot_buttons=buttons or False,
            )
        )

    def rate_limits(self):
        return RateLimits(per_second=1000, per_chat_per_second=1000, per_group_per_minute=1000)


class ChatbotChannel(models.Model):
    """A bot's "Odoo live-chat" channel: the website visitors of one live chat channel talk to the bot."""

    _inherit = "chatbot.channel"

    livechat_channel_id = fields.Many2one(
        "im_livechat.channel",
        "Live chat",
        ondelete="cascade",
        index="btree_not_null",
        help="The website live chat whose visitors talk to this bot.",
    )

    _sql_constraints = [
        (
            "livechat_channel_unique",
            "UNIQUE(livechat_channel_id)",
            "A website live chat talks to one bot only.",
        )
    ]

    @api.model
    def _chatbot_connector_classes(self):
        return {**super()._chatbot_connector_classes(), LIVECHAT: LivechatConnector}

    @api.constrains("provider", "livechat_channel_id")
    def _check_livechat_channel(self):
        for channel in self.filtered(lambda c: c.provider == LIVECHAT and not c.livechat_channel_id):
            raise ValidationError(
                self.env._("Choose the website live chat of the channel %(name)s.", name=channel.name)
            )
