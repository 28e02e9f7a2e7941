from odoo import fields, models

from .chatbot_inbound import HOLD_PARAM, HOLD_SECONDS, RETENTION_DAYS, RETENTION_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # No constraint on these: a bad value stored by hand would then block saving every app's settings. The
    # queue reads them with a floor instead (Odoo stores 0 as no parameter: the default).
    chatbot_inbound_hold_seconds = fields.Integer(
        "Hold a chat for a failed update",
        config_parameter=HOLD_PARAM,
        default=HOLD_SECONDS,
        help="Seconds the later updates of a chat wait for an update that failed for a reason that may heal "
        "by waiting (a conflict, the network). After that they go on, and the failed update is processed "
        "late, when its retry is due.",
    )
    chatbot_inbound_retention_days = fields.Integer(
        "Keep processed updates",
        config_parameter=RETENTION_PARAM,
        default=RETENTION_DAYS,
        help="Days the inbound queue keeps processed updates; failed ones are kept at least 30 days.",
    )
