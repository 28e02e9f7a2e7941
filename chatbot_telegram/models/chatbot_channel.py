from odoo import models

from odoo.addons.chatbot_base.tools.connector import Connector, ConnectorError, RateLimits, UnsupportedEvent


class TelegramConnector(Connector):
    """Telegram's side of the connector interface.

    Storing updates (their id and chat) works; parsing updates and the Bot API transport are the
    subject of the Telegram connector issue and are not written yet: an update is kept as ignored, and a
    message to send fails with a clear reason, so nothing is lost or sent half-way.
    """

    provider = "telegram"
    label = "Telegram"

    def event_key(self, payload):
        update_id = payload["update_id"]
        for kind in ("message", "edited_message", "channel_post", "callback_query", "my_chat_member"):
            body = payload.get(kind)
            if isinstance(body, dict):
                chat = body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from") or {}
                return str(update_id), str(chat.get("id", ""))
        return str(update_id), ""

    def parse(self, payload):
        raise UnsupportedEvent(
            self.env._("Telegram updates are not handled by this version of chatbot_telegram.")
        )

    def send(self, message):
        if self.channel.state != "connected":
            raise ConnectorError(self.env._("Channel %(name)s is not connected.", name=self.channel.name))
        raise ConnectorError(self.env._("Sending through Telegram is not available in this version."))

    def rate_limits(self):
        return RateLimits(per_second=30, per_chat_per_second=1, per_group_per_minute=20)

    def is_group_chat(self, chat_id):
        return str(chat_id).startswith("-")


class ChatbotChannel(models.Model):
    _inherit = "chatbot.channel"

    def _chatbot_connector_classes(self):
        return {**super()._chatbot_connector_classes(), "telegram": TelegramConnector}
