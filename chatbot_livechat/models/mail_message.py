from odoo import fields, models

from odoo.addons.mail.tools.discuss import Store


class MailMessage(models.Model):
    """A bot's message in a website live chat can carry answer buttons; the widget shows them."""

    _inherit = "mail.message"

    chatbot_buttons = fields.Json("Bot buttons", readonly=True, copy=False)

    def _to_store(self, store: Store, **kwargs):
        result = super()._to_store(store, **kwargs)
        for message in self.filtered("chatbot_buttons"):
            store.add(message, {"chatbotButtons": message.chatbot_buttons})
        return result
