from odoo import api, models

from odoo.addons.rating.models.rating_data import RATING_LIMIT_OK, RATING_LIMIT_SATISFIED


class RatingRating(models.Model):
    """A website visitor keeps Odoo's live chat rating: given on a session that served a bot dialog, it is the
    dialog's rating too, so that the suite's reports count it with the messengers' ones."""

    _inherit = "rating.rating"

    @api.model_create_multi
    def create(self, vals_list):
        ratings = super().create(vals_list)
        ratings._chatbot_rate_dialogs()
        return ratings

    def write(self, vals):
        result = super().write(vals)
        if {"rating", "feedback"} & vals.keys():
            self._chatbot_rate_dialogs()
        return result

    def _chatbot_rate_dialogs(self):
        for rating in self.filtered(lambda r: r.res_model == "discuss.channel" and r.rating):
            # sudo: the visitor rates their session; its dialog records the rating
            dialog = self.env["discuss.channel"].sudo().browse(rating.res_id).exists().chatbot_dialog_id
            if not dialog:
                continue
            value = (
                5 if rating.rating >= RATING_LIMIT_SATISFIED else 3 if rating.rating >= RATING_LIMIT_OK else 1
            )
            dialog.write(
                {
                    "rating": str(value),
                    "rating_value": value,
                    "rating_comment": rating.feedback or False,
                    "rating_date": rating.write_date,
                }
            )
