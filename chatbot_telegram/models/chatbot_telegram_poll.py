from odoo import fields, models


class ChatbotTelegramPoll(models.Model):
    """Where a long-polling channel stands in Telegram's stream of updates: getUpdates' next offset.

    A row of its own, written by the polling job only. Kept on the channel, the offset's write collided with
    the other jobs that write the channel's row (the outbound queue's pacing, a status): under REPEATABLE
    READ one of the two runs failed with a serialization error and the next poll came a minute later."""

    _name = "chatbot.telegram.poll"
    _description = "Telegram long polling"
    _rec_name = "channel_id"

    channel_id = fields.Many2one("chatbot.channel", required=True, ondelete="cascade", readonly=True)
    update_offset = fields.Char("Next offset", readonly=True)

    _sql_constraints = [("channel_unique", "UNIQUE(channel_id)", "One polling state per channel.")]

    def _save_offset(self, channel, offset):
        """Upsert the next offset of `channel` in the current transaction (the one storing its updates)."""
        self.env.cr.execute(
            """
            INSERT INTO chatbot_telegram_poll (channel_id, update_offset, create_uid, write_uid, create_date,
                                               write_date)
            VALUES (%s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (channel_id) DO UPDATE
               SET update_offset = EXCLUDED.update_offset, write_date = EXCLUDED.write_date
            """,
            [channel.id, str(offset), self.env.uid, self.env.uid],
        )
        self.invalidate_model(["update_offset"])

    def _offsets(self, channels):
        """{channel id: next offset or None}."""
        rows = self.search_fetch([("channel_id", "in", channels.ids)], ["channel_id", "update_offset"])
        return {row.channel_id.id: int(row.update_offset) if row.update_offset else None for row in rows}
