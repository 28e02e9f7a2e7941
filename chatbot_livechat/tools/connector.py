"""The website live chat as a messenger: the connector of the bots' "Odoo live chat" channels."""

from markupsafe import Markup, escape

from odoo.addons.chatbot_base.tools.connector import (
    Connector,
    ConnectorError,
    InboundEvent,
    MalformedEvent,
    RateLimits,
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
        """Post the message into the visitor's live chat session as the bot's contact; returns the
        mail.message's id. The session is a table of this database: chatbot_livechat sends in the transaction
        that queued the message (see chatbot.dialog._chatbot_deliver)."""
        # sudo: the bot writes into its own live chat session with the visitor
        session = self.env["discuss.channel"].sudo().browse(int(message.chat_id)).exists()
        if not session or session.channel_type != "livechat" or not session.livechat_active:
            # not RecipientBlocked: the visitor may come back in a new session; this message is lost to them
            raise ConnectorError(self.env._("The visitor left the live chat."))
        body = escape(message.text or "").replace("\n", Markup("<br/>"))
        buttons = [
            {"label": button.label, "data": button.data, "url": button.url}
            for row in message.buttons
            for button in row
        ]
        posted = session.with_context(chatbot_no_relay=True).message_post(
            body=body,
            author_id=self.channel.bot_id._chatbot_partner().id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=list(message.attachment_ids),
            chatbot_buttons=buttons or False,
        )
        return str(posted.id)

    def rate_limits(self):
        return RateLimits(per_second=1000, per_chat_per_second=1000, per_group_per_minute=1000)
