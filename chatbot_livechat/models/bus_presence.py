from odoo import api, models

from odoo.addons.bus.models.bus_presence import AWAY_TIMER


class BusPresence(models.Model):
    """An operator who comes online in the web client may take the customers waiting for them."""

    _inherit = "bus.presence"

    @api.model
    def _update_presence(self, inactivity_period, identity_field, identity_value):
        coming_online = (
            identity_field == "user_id"
            and inactivity_period <= AWAY_TIMER * 1000
            and not self.search_count([("user_id", "=", identity_value), ("status", "=", "online")], limit=1)
        )
        result = super()._update_presence(inactivity_period, identity_field, identity_value)
        # sudo: whether the user is an Active operator of a bot (one count, only when they come online)
        if coming_online and self.env["chatbot.operator"].sudo().search_count(
            [("user_id", "=", identity_value), ("status", "=", "active")], limit=1
        ):
            self.env.ref("chatbot_operator.ir_cron_chatbot_operator_queue").sudo()._trigger()
        return result
