from odoo import api, fields, models

ONLINE_SQL = """ AND (o.user_id IS NULL OR EXISTS (
    SELECT 1 FROM bus_presence p WHERE p.user_id = o.user_id AND p.status = 'online'))"""


class ChatbotBot(models.Model):
    """An operator bot's live chat: its conversations are sessions of one `im_livechat.channel`, so they pop
    up for the operators and sit in Discuss's "Livechat" list; by default the bot also answers that live
    chat's website visitors (seed: the "Odoo live-chat" channel of the Channels tab)."""

    _inherit = "chatbot.bot"

    livechat_channel_id = fields.Many2one(
        "im_livechat.channel",
        "Live chat channel",
        ondelete="set null",
        help="Operator bots: the website live chat whose sessions are this bot's conversations with its Odoo "
        "operators (created with the bot). Its operators are the bot's.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        bots = super().create(vals_list)
        bots.filtered(lambda b: b.bot_type == "operator")._chatbot_ensure_livechat()
        return bots

    def write(self, vals):
        result = super().write(vals)
        if vals.get("bot_type") == "operator":
            self._chatbot_ensure_livechat()
        return result

    def _chatbot_ensure_livechat(self):
        """The operator bot's live chat channel and its "Odoo live-chat" messenger channel (seed §1.1.5)."""
        # sudo: creating the bot's live chat channel and its messenger channel goes with creating the bot
        for bot in self.sudo().filtered(lambda b: b.bot_type == "operator"):
            if not bot.livechat_channel_id:
                bot.livechat_channel_id = (
                    self.env["im_livechat.channel"]
                    .sudo()
                    .create({"name": bot.name, "user_ids": [(6, 0, bot.operator_ids.user_id.ids)]})
                )
            Channel = self.env["chatbot.channel"].sudo().with_context(active_test=False)
            if not Channel.search_count([("livechat_channel_id", "=", bot.livechat_channel_id.id)], limit=1):
                Channel.create(
                    {
                        "name": self.env._("Odoo live-chat"),
                        "bot_id": bot.id,
                        "provider": "livechat",
                        "livechat_channel_id": bot.livechat_channel_id.id,
                        "state": "connected",
                    }
                )

    def action_join(self):
        result = super().action_join()
        # the operator is an operator of the bot's live chat too (its sessions, its Livechat list)
        # sudo: the user joins the live chat channel of a bot they joined
        self.sudo().livechat_channel_id.user_ids = [(4, self.env.uid)]
        return result

    def action_leave(self):
        result = super().action_leave()
        # sudo: the user leaves the live chat channel of a bot they left
        self.sudo().livechat_channel_id.user_ids = [(3, self.env.uid)]
        return result

    def _chatbot_operator_available_sql(self):
        # Odoo's presence and the suite's status must both allow it: an Odoo user is offered dialogs only
        # while online in the web client, as Odoo's live chat does (messenger operators have no presence).
        return super()._chatbot_operator_available_sql() + ONLINE_SQL
