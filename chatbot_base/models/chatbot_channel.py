import logging
import secrets

from psycopg2.extras import Json

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.connector import Connector
from ..tools.cron_wakeup import wake_cron

_logger = logging.getLogger(__name__)

SYSTEM_GROUP = "base.group_system"
# an update's id and chat key as stored: far longer than any messenger's, far below what PostgreSQL indexes
# (a B-tree entry of over 2,704 bytes is refused)
MAX_KEY_LENGTH = 255


def _storable_key(key):
    """Whether PostgreSQL can store and index `key` (a str) as an update's id or chat key."""
    if len(key) > MAX_KEY_LENGTH or "\x00" in key:
        return False
    try:
        key.encode()
    except UnicodeEncodeError:  # a lone UTF-16 surrogate
        return False
    return True


class ChatbotChannel(models.Model):
    """A connection of a bot to a messenger (a Telegram bot, the website live chat, ...)."""

    _name = "chatbot.channel"
    _description = "Messenger channel"
    _order = "bot_id, sequence, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    bot_id = fields.Many2one("chatbot.bot", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="bot_id.company_id", store=True, index=True)
    provider = fields.Selection(selection="_selection_provider", string="Messenger", required=True)
    state = fields.Selection(
        [("draft", "Not connected"), ("connected", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
    )
    status_message = fields.Char(readonly=True, copy=False, help="The last connection problem, if any.")
    webhook_key = fields.Char(
        groups=SYSTEM_GROUP,
        copy=False,
        readonly=True,
        default=lambda self: secrets.token_urlsafe(24),
        help="The unguessable part of this channel's webhook address. It is not the messenger's token.",
    )
    hold_until = fields.Datetime(
        readonly=True, copy=False, help="The messenger asked to wait until then before sending more."
    )
    outbound_recent_sends = fields.Json(
        readonly=True,
        copy=False,
        help="When the outbound queue's last sends on this channel ended (seconds since the epoch): the "
        "next run of the queue, maybe on another worker, keeps the per-second limit across the two runs.",
    )
    sender_ids = fields.One2many("chatbot.sender", "channel_id", "Senders")
    sender_count = fields.Integer(compute="_compute_sender_count")

    _sql_constraints = [("webhook_key_unique", "UNIQUE(webhook_key)", "A webhook key must be unique.")]

    @api.model
    def _chatbot_system_fields(self):
        """Fields that decide where the messenger's token or the webhook's secret is sent (an API address, the
        public address given to the messenger): written by system administrators only. A Bots manager who
        could point them elsewhere would make Odoo hand the token to any server. Connector addons add theirs;
        each also carries `groups=base.group_system`, this check is the second lock."""
        return {"webhook_key"}

    def _chatbot_check_system_fields(self, vals_list, creating=False):
        """Refuse values of `_chatbot_system_fields` from a user who is not a system administrator. At
        creation, a field's default value is allowed (a manager may create a channel the administrator then
        connects)."""
        if self.env.su or self.env.user.has_group(SYSTEM_GROUP):
            return
        guarded = self._chatbot_system_fields()
        written = {name for vals in vals_list for name in vals if name in guarded}
        if creating and written:
            defaults = self.default_get(list(written))
            written = {
                name
                for vals in vals_list
                for name in written
                if name in vals and vals[name] != defaults.get(name)
            }
        if written:
            labels = sorted(self._fields[name].get_description(self.env)["string"] for name in written)
            raise AccessError(
                self.env._(
                    "Only system administrators can change where the bot's token and webhook secret are sent "
                    "(%(fields)s).",
                    fields=", ".join(labels),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._chatbot_check_system_fields(vals_list, creating=True)
        return super().create(vals_list)

    def write(self, vals):
        self._chatbot_check_system_fields([vals])
        return super().write(vals)

    @api.model
    def _chatbot_connector_classes(self):
        """{provider: Connector subclass}. Connector addons override this to register themselves."""
        return {}

    @api.model
    def _selection_provider(self):
        return [(key, cls.label or key) for key, cls in self._chatbot_connector_classes().items()]

    def _compute_sender_count(self):
        groups = self.env["chatbot.sender"]._read_group(
            [("channel_id", "in", self.ids)], ["channel_id"], ["__count"]
        )
        by_channel = {channel.id: count for channel, count in groups}
        for channel in self:
            channel.sender_count = by_channel.get(channel.id, 0)

    def _chatbot_text_limit(self, with_files=False):
        """The longest text these channels' messengers take in one message (under a file: `with_files`),
        the strictest of them; None when none of them sets a limit."""
        limits = []
        for cls in map(self._chatbot_connector_classes().get, set(self.mapped("provider"))):
            limit = cls and (cls.caption_limit if with_files else cls.text_limit)
            if limit:
                limits.append(limit)
        return min(limits, default=None)

    def _chatbot_connector(self) -> Connector:
        self.ensure_one()
        cls = self._chatbot_connector_classes().get(self.provider)
        if not cls:
            raise UserError(
                self.env._(
                    "Channel %(channel)s uses the messenger %(provider)s, whose addon is not installed.",
                    channel=self.name,
                    provider=self.provider,
                )
            )
        return cls(self)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_has_senders(self):
        """A channel that already has senders keeps their history: it is archived, not deleted."""
        used = self.filtered("sender_ids")
        if used:
            raise UserError(
                self.env._(
                    "Channel %(channel)s has %(count)s senders and their dialogs. Archive it instead of "
                    "deleting it, so that the history stays.",
                    channel=used[0].name,
                    count=len(used[0].sender_ids),
                )
            )

    def action_chatbot_remove(self):
        """The trash of a bot's Channels tab, after its confirmation: a chat nobody wrote to yet is deleted;
        one with senders is archived instead, so that its senders, dialogs and their history stay (it stops
        receiving and sending; *Archived* in the chats' list brings it back)."""
        used = self.filtered("sender_ids")
        for channel in used:
            channel._chatbot_before_archive()
        used.write({"active": False})
        (self - used).unlink()
        return True

    def _chatbot_before_archive(self):
        """Hook: the chat is about to be archived (chatbot_telegram stops Telegram's deliveries)."""

    def action_view_senders(self):
        """The channel's senders."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("chatbot_base.chatbot_sender_action")
        action.update(domain=[("channel_id", "=", self.id)], context={"default_channel_id": self.id})
        return action

    # ------------------------------------------------------------------------------------------
    # Inbound: storing raw updates
    # ------------------------------------------------------------------------------------------

    def _chatbot_store_inbound(self, payload, error=None):
        """Store a raw update idempotently and wake the inbound queue.

        Returns the new `chatbot.inbound` id, or None when this update was stored before (the messenger
        resent it). With `error` (a body that could not be read), the row is kept as failed for inspection.

        A plain INSERT ... ON CONFLICT DO NOTHING: an ORM create would raise on the unique constraint and
        turn a resent update into an error answer, which the messenger would resend forever. Two
        transactions storing the same update at once (two workers, two servers): when the first commits
        after the second began, the row is newer than the second's snapshot and PostgreSQL refuses the
        conflicting insert under REPEATABLE READ with a serialization failure, raised to the caller; the
        row is stored. A caller whose transaction holds nothing else (the webhook) rolls back and stores
        again, finding it; otherwise Odoo runs the request or the job again.

        An id or a chat key that PostgreSQL cannot store or index (too long, NUL, a lone surrogate) keeps
        the row as failed.
        """
        self.ensure_one()
        external_id, chat_key = None, ""
        if not error:
            try:
                external_id, chat_key = self._chatbot_connector().event_key(payload)
                external_id, chat_key = external_id and str(external_id), str(chat_key or "")
            except (KeyError, TypeError, ValueError, AttributeError):
                error = self.env._("The update has no id: it was kept but not processed.")
            else:
                if external_id and not _storable_key(external_id):
                    external_id = None
                    error = self.env._("The update's id is not valid: it was kept but not processed.")
                if not _storable_key(chat_key):
                    chat_key = ""
                    error = error or self.env._(
                        "The update's chat is not valid: it was kept but not processed."
                    )
        state = "failed" if error else "pending"
        if not external_id:
            # Without an id we cannot deduplicate: keep it for inspection, never process it.
            external_id = f"invalid-{secrets.token_hex(8)}"
            state, error = (
                "failed",
                error or self.env._("The update has no id: it was kept but not processed."),
            )
        self.env.cr.execute(
            """
            INSERT INTO chatbot_inbound (channel_id, company_id, external_id, chat_key, payload, state, error,
                                         attempts, next_try, create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s,
                    now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (channel_id, external_id) DO NOTHING
            RETURNING id
            """,
            [
                self.id,
                self.company_id.id,
                str(external_id),
                chat_key,
                Json(payload),
                state,
                error,
                fields.Datetime.now(),
                self.env.uid,
                self.env.uid,
            ],
            # Odoo would log the query, the customer's message in it, with the error, which goes to the caller
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if not row:
            _logger.debug("channel %s: update %s already stored", self.id, external_id)
            return None
        if state == "pending":
            wake_cron(self.env, "chatbot_base.ir_cron_chatbot_inbound_process")
        return row[0]

    def _chatbot_has_operator_group(self):
        """Whether operators answer this channel's customers from a group chat (connector-defined)."""
        return False

    def _chatbot_on_group_event(self, event):
        """Hook: a message in a group chat (an operators' group). Connectors that support operators'
        groups override it; returns the dialog it belongs to, or an empty recordset."""
        _logger.debug("channel %s: group message in chat %s ignored", self.id, event.chat_id)
        return self.env["chatbot.dialog"]

    # ------------------------------------------------------------------------------------------
    # Processing one normalised event
    # ------------------------------------------------------------------------------------------

    def _chatbot_process_event(self, event):
        """Apply one normalised event: the sender, their partner, the dialog, the message, then the hooks
        of the dialog's handler (client flow, operator session) added by other addons."""
        self.ensure_one()
        if event.sender is None:
            return self.env["chatbot.dialog"]
        if event.is_group:
            # An operators' group is not a customer: the connector says which dialog it is about.
            return self._chatbot_on_group_event(event)
        sender = self.env["chatbot.sender"]._chatbot_get_or_create(self, event.sender, event.chat_id)
        channel = self
        lang = sender._chatbot_reader_lang()
        if lang and lang != self.env.lang:
            # what the bot answers this person, it writes in their language
            channel, sender = self.with_context(lang=lang), sender.with_context(lang=lang)
        if event.kind in ("blocked", "unblocked"):
            sender.is_blocked = event.kind == "blocked"
            return self.env["chatbot.dialog"]
        if sender.is_blocked:
            # A customer who writes again has unblocked the bot, whatever the messenger told us before.
            sender.is_blocked = False
        if event.contact_phone:
            sender._chatbot_set_phone(event.contact_phone)
        return channel._chatbot_process_sender_event(sender, event)

    def _chatbot_process_sender_event(self, sender, event):
        """A person's event, their sender known and locked: into their open dialog with the bot. Other addons
        send some people elsewhere (an approved operator's messages answer their customer)."""
        dialog = self.env["chatbot.dialog"]._chatbot_get_or_open(sender)
        dialog._chatbot_receive(event)
        return dialog
