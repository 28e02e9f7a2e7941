import ast
import logging
import time

from psycopg2.extras import Json

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.chatbot_base.models.chatbot_outbound import OUTBOUND_CRON
from odoo.addons.chatbot_base.tools.connector import OutboundMessage
from odoo.addons.chatbot_base.tools.cron_wakeup import cron_time_budget, wake_cron
from odoo.addons.chatbot_base.tools.i18n import reader_lang
from odoo.addons.chatbot_base.tools.queue import auto_commit

from .chatbot_broadcast_recipient import OPEN_STATES

_logger = logging.getLogger(__name__)

BROADCAST_CRON = "chatbot_operator.ir_cron_chatbot_broadcast_send"
# SMS of an SMS to Odoo's SMS gateway are sent in batches of this size (as sms.sms does)
SMS_BATCH = 500


class ChatbotBroadcast(models.Model):
    """A mass message to a bot's contacts (seed §1.1.4): the text or an SMS template's, a file, inline
    buttons, a filter on the bot's senders, now or at a chosen time, with an SMS to those the messenger
    cannot reach. Sent through the outbound queue at the channel's rate, with a state per recipient."""

    _name = "chatbot.broadcast"
    _description = "Broadcast"
    _order = "id desc"

    name = fields.Char("Title", required=True, help="For you: the customers never see it.")
    bot_id = fields.Many2one("chatbot.bot", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="bot_id.company_id", store=True, index=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("scheduled", "Scheduled"),
            ("sending", "Sending"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        index=True,
        copy=False,
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        "SMS template",
        domain=[("model", "=", "res.partner")],
        help="Its text becomes the message; the SMS sent to those the messenger cannot reach is the template "
        "filled in for each contact.",
    )
    body = fields.Text(
        "Message",
        compute="_compute_body",
        store=True,
        readonly=False,
        precompute=True,
        translate=False,
    )
    attachment_ids = fields.Many2many("ir.attachment", string="Files", help="Sent with the message.")
    button_ids = fields.One2many("chatbot.broadcast.button", "broadcast_id", "Telegram buttons", copy=True)
    recipient_domain = fields.Char(
        "Recipients",
        default="[]",
        help="Which of the bot's senders get the message; their contact's fields are under Contact. Senders "
        "who sent /stop never get broadcasts.",
    )
    recipient_count = fields.Integer("Recipients count", compute="_compute_recipient_count")
    sms_recipient_count = fields.Integer("Contacts by SMS", compute="_compute_recipient_count")
    scheduled_date = fields.Datetime("Send at", copy=False, help="Empty: send at once.")
    sms_fallback = fields.Boolean(
        "SMS when the messenger cannot reach them",
        help="Senders who blocked the bot, and the contacts below who never wrote to it, get an SMS instead.",
    )
    partner_domain = fields.Char(
        "Contacts who never wrote",
        help="Contacts without a sender on this bot who get the SMS. Empty: none.",
    )
    user_id = fields.Many2one("res.users", "Sent by", readonly=True, copy=False)
    start_date = fields.Datetime("Started on", readonly=True, copy=False)
    end_date = fields.Datetime("Finished on", readonly=True, copy=False)
    recipient_ids = fields.One2many("chatbot.broadcast.recipient", "broadcast_id", "Recipient list")
    total_count = fields.Integer("Total", compute="_compute_totals")
    queued_count = fields.Integer("Queued", compute="_compute_totals")
    sent_count = fields.Integer("Sent", compute="_compute_totals")
    failed_count = fields.Integer("Failed", compute="_compute_totals")
    blocked_count = fields.Integer("Blocked", compute="_compute_totals")
    optout_count = fields.Integer("Opted out", compute="_compute_totals")
    cancelled_count = fields.Integer("Cancelled", compute="_compute_totals")
    progress = fields.Float(compute="_compute_totals", help="Share of the recipients already dealt with.")

    @api.depends("sms_template_id")
    def _compute_body(self):
        for broadcast in self:
            if broadcast.sms_template_id:
                broadcast.body = broadcast.sms_template_id.body

    @api.depends("bot_id", "recipient_domain", "sms_fallback", "partner_domain", "state")
    def _compute_recipient_count(self):
        for broadcast in self:
            broadcast.recipient_count = broadcast.sms_recipient_count = 0
            if not broadcast.bot_id:
                continue
            try:
                broadcast.recipient_count = self.env["chatbot.sender"].search_count(
                    broadcast._chatbot_sender_domain()
                )
                if broadcast.sms_fallback and broadcast.partner_domain:
                    self.env.cr.execute(broadcast._chatbot_partner_count_query())
                    broadcast.sms_recipient_count = self.env.cr.fetchone()[0]
            except (UserError, ValueError, SyntaxError):
                continue  # shown as 0; saving names what is wrong (_check_domains)

    @api.depends("recipient_ids.state")
    def _compute_totals(self):
        ids = [broadcast_id for broadcast_id in self._origin.ids if broadcast_id]
        counts = {}
        if ids:
            groups = self.env["chatbot.broadcast.recipient"]._read_group(
                [("broadcast_id", "in", ids)], ["broadcast_id", "state"], ["__count"]
            )
            for broadcast, state, count in groups:
                counts.setdefault(broadcast.id, {})[state] = count
        for broadcast in self:
            by_state = counts.get(broadcast._origin.id, {})
            total = sum(by_state.values())
            open_count = sum(by_state.get(state, 0) for state in OPEN_STATES)
            broadcast.total_count = total
            broadcast.queued_count = open_count
            broadcast.sent_count = by_state.get("sent", 0)
            broadcast.failed_count = by_state.get("failed", 0)
            broadcast.blocked_count = by_state.get("blocked", 0)
            broadcast.optout_count = by_state.get("optout", 0)
            broadcast.cancelled_count = by_state.get("cancelled", 0)
            broadcast.progress = 100.0 * (total - open_count) / total if total else 0.0

    # ------------------------------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------------------------------

    def _chatbot_parse_domain(self, text, what):
        try:
            domain = ast.literal_eval(text or "[]")
        except (ValueError, SyntaxError):
            domain = None
        if not isinstance(domain, list | tuple):
            raise UserError(
                self.env._("The filter on the %(what)s cannot be read: %(domain)s", what=what, domain=text)
            )
        return list(domain)

    def _chatbot_sender_domain(self):
        """The senders this broadcast goes to: the bot's, matching the filter, not opted out."""
        self.ensure_one()
        return [
            ("bot_id", "=", self.bot_id.id),
            ("broadcast_optout", "=", False),
            *self._chatbot_parse_domain(self.recipient_domain, self.env._("recipients")),
        ]

    def _chatbot_partner_query(self, user=None):
        """The contacts matching the SMS filter who have no sender on this bot: SQL selecting their ids."""
        self.ensure_one()
        Partner = self.env["res.partner"].with_user(user) if user else self.env["res.partner"]
        domain = self._chatbot_parse_domain(self.partner_domain, self.env._("contacts"))
        query = Partner._search(domain)
        return SQL(
            """SELECT p.id FROM res_partner p
                WHERE p.id IN %s
                  AND NOT EXISTS (SELECT 1 FROM chatbot_sender s
                                   WHERE s.bot_id = %s AND s.partner_id = p.id)""",
            query.subselect(),
            self.bot_id.id,
        )

    def _chatbot_partner_count_query(self):
        return SQL("SELECT count(*) FROM (%s) partners", self._chatbot_partner_query())

    @api.constrains("recipient_domain", "partner_domain", "sms_fallback")
    def _check_domains(self):
        for broadcast in self:
            try:
                self.env["chatbot.sender"].search_count(broadcast._chatbot_sender_domain(), limit=1)
                if broadcast.sms_fallback and broadcast.partner_domain:
                    self.env.cr.execute(broadcast._chatbot_partner_count_query())
            except (ValueError, SyntaxError, KeyError) as error:
                raise ValidationError(
                    self.env._("The recipients filter is not valid: %(error)s", error=error)
                ) from None
            except UserError as error:
                raise ValidationError(str(error)) from None

    @api.constrains("body", "attachment_ids")
    def _check_body(self):
        for broadcast in self:
            channels = broadcast.bot_id.channel_ids
            limit = channels._chatbot_text_limit(with_files=bool(broadcast.attachment_ids))
            if limit and broadcast.body and len(broadcast.body) > limit:
                raise ValidationError(
                    self.env._(
                        "The message has %(length)s characters; the bot's messengers take %(limit)s at most"
                        " (fewer under a file).",
                        length=len(broadcast.body),
                        limit=limit,
                    )
                )

    def _chatbot_check_sendable(self):
        for broadcast in self:
            if not (broadcast.body or "").strip() and not broadcast.attachment_ids:
                raise UserError(
                    self.env._(
                        "%(name)s has no message: write one, or pick an SMS template.", name=broadcast.name
                    )
                )
            if not broadcast.bot_id.channel_ids:
                raise UserError(
                    self.env._("%(bot)s has no channel to send through.", bot=broadcast.bot_id.name)
                )
            broadcast.button_ids._check_button()
            broadcast._check_domains()
            if not broadcast.recipient_count and not broadcast.sms_recipient_count:
                raise UserError(
                    self.env._("No recipient matches the filter of %(name)s.", name=broadcast.name)
                )

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def write(self, vals):
        locked = set(vals) - {"state", "start_date", "end_date", "user_id", "scheduled_date", "name"}
        if locked and any(broadcast.state != "draft" for broadcast in self):
            raise UserError(self.env._("A broadcast that was sent or scheduled cannot be changed."))
        return super().write(vals)

    def action_send(self):
        """Send now, or at the chosen time."""
        self._chatbot_check_sendable()
        now = fields.Datetime.now()
        for broadcast in self:
            if broadcast.state != "draft":
                raise UserError(self.env._("%(name)s was already sent or scheduled.", name=broadcast.name))
            broadcast.user_id = self.env.user
            if broadcast.scheduled_date and broadcast.scheduled_date > now:
                broadcast.state = "scheduled"
                self.env.ref(BROADCAST_CRON)._trigger(broadcast.scheduled_date)
            else:
                broadcast._chatbot_start()
        return True

    def action_cancel(self):
        """Stop: nobody else gets it; what is already on its way stays sent."""
        for broadcast in self:
            if broadcast.state not in ("scheduled", "sending"):
                raise UserError(
                    self.env._(
                        "Only a scheduled or sending broadcast can be cancelled: %(name)s is not.",
                        name=broadcast.name,
                    )
                )
        self.write({"state": "cancelled", "end_date": fields.Datetime.now()})
        Recipient = self.env["chatbot.broadcast.recipient"]
        # sudo: the recipients and their queue rows are technical; a manager may cancel the broadcast
        Recipient.sudo().search([("broadcast_id", "in", self.ids), ("state", "=", "pending")]).write(
            {"state": "cancelled"}
        )
        queued = Recipient.sudo().search([("broadcast_id", "in", self.ids), ("state", "=", "queued")])
        queued.outbound_id.filtered(lambda o: o.state == "queued").action_cancel()
        queued.sms_id.filtered(lambda s: s.state == "outgoing").action_set_canceled()
        queued.filtered(lambda r: r.sms_id.state == "canceled").write({"state": "cancelled"})
        return True

    def action_resume(self):
        """Go on with a cancelled broadcast: those who did not get it yet get it; nobody gets it twice."""
        for broadcast in self:
            if broadcast.state != "cancelled":
                raise UserError(
                    self.env._(
                        "Only a cancelled broadcast can be resumed: %(name)s is not.", name=broadcast.name
                    )
                )
        now = fields.Datetime.now()
        Recipient = self.env["chatbot.broadcast.recipient"].sudo()  # sudo: see action_cancel
        for broadcast in self:
            cancelled = Recipient.search([("broadcast_id", "=", broadcast.id), ("state", "=", "cancelled")])
            # their messages were cancelled before anything was sent: new ones go out, the old rows stay
            cancelled.outbound_id.broadcast_recipient_id = False
            cancelled.write({"state": "pending", "outbound_id": False, "sms_id": False, "error": False})
            if not broadcast.start_date:
                if broadcast.scheduled_date and broadcast.scheduled_date > now:
                    broadcast.write({"state": "scheduled", "end_date": False})
                    self.env.ref(BROADCAST_CRON)._trigger(broadcast.scheduled_date)
                else:
                    broadcast._chatbot_start()
                continue
            broadcast.write({"state": "sending", "end_date": False})
            wake_cron(self.env, BROADCAST_CRON)
        return True

    def action_view_recipients(self):
        """The broadcast's recipients and their state."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recipients of %(name)s", name=self.name),
            "res_model": "chatbot.broadcast.recipient",
            "view_mode": "list,form",
            "domain": [("broadcast_id", "=", self.id)],
            "context": {"search_default_groupby_state": 1},
        }

    # ------------------------------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------------------------------

    def _chatbot_start(self):
        """Make the recipient list (one statement; one row per sender, whatever happens next) and start
        sending. The filter runs with the rights of the user who sent the broadcast."""
        self.ensure_one()
        user = self.user_id or self.env.user
        Sender = self.env["chatbot.sender"].with_user(user).with_company(self.company_id)
        query = Sender._search(self._chatbot_sender_domain())
        self.env.flush_all()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO chatbot_broadcast_recipient (
                    broadcast_id, company_id, sender_id, partner_id, via, state,
                    create_uid, write_uid, create_date, write_date)
                SELECT %(broadcast)s, %(company)s, s.id, s.partner_id,
                       CASE WHEN s.is_blocked AND %(sms)s THEN 'sms' ELSE 'messenger' END,
                       CASE WHEN s.is_blocked AND NOT %(sms)s THEN 'blocked' ELSE 'pending' END,
                       %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM chatbot_sender s
                 WHERE s.id IN %(senders)s AND s.broadcast_optout IS NOT TRUE
                 ORDER BY s.id
                ON CONFLICT DO NOTHING
                """,
                broadcast=self.id,
                company=self.company_id.id,
                sms=bool(self.sms_fallback),
                uid=self.env.uid,
                now=now,
                senders=query.subselect(),
            )
        )
        if self.sms_fallback and self.partner_domain:
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO chatbot_broadcast_recipient (broadcast_id, company_id, partner_id, via, state,
                                                             create_uid, write_uid, create_date, write_date)
                    SELECT %(broadcast)s, %(company)s, partners.id, 'sms', 'pending',
                           %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM (%(partners)s) partners
                     ORDER BY partners.id
                    ON CONFLICT DO NOTHING
                    """,
                    broadcast=self.id,
                    company=self.company_id.id,
                    uid=self.env.uid,
                    now=now,
                    partners=self._chatbot_partner_query(user),
                )
            )
        self.env["chatbot.broadcast.recipient"].invalidate_model()
        self.write({"state": "sending", "start_date": now, "end_date": False})
        wake_cron(self.env, BROADCAST_CRON)

    def _chatbot_message(self, chat_id):
        """The broadcast's message to one chat."""
        self.ensure_one()
        return OutboundMessage(
            chat_id=chat_id,
            text=self.body or "",
            buttons=[[button._chatbot_button()] for button in self.button_ids],
            attachment_ids=self.attachment_ids.ids,
        )

    @api.model
    def _chatbot_feed(self, channel, limit):
        """Queue the messages of the next `limit` recipients reached through `channel` (the outbound queue
        calls this when it runs low, the broadcast cron to begin with). Each recipient is locked
        (SKIP LOCKED: two workers never take the same one) and linked to its message in the transaction
        that creates it: a worker killed before the commit leaves the recipient as it was, after it the
        message exists once. Returns how many messages it queued."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT r.id, r.broadcast_id, s.id, coalesce(s.chat_id, s.external_id), s.is_blocked,
                   s.broadcast_optout, p.lang, s.lang
              FROM chatbot_broadcast_recipient r
              JOIN chatbot_broadcast b ON b.id = r.broadcast_id
              JOIN chatbot_sender s ON s.id = r.sender_id
              LEFT JOIN res_partner p ON p.id = s.partner_id
             WHERE b.state = 'sending' AND r.state = 'pending' AND r.via = 'messenger' AND s.channel_id = %s
             ORDER BY r.id
             LIMIT %s
             FOR UPDATE OF r SKIP LOCKED
            """,
            [channel.id, limit],
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return 0
        Recipient = self.env["chatbot.broadcast.recipient"]
        templates = {}  # (broadcast, language): the message, its buttons in the language of its readers
        optout, blocked, to_sms = [], [], []
        queued = {"recipients": [], "senders": [], "chats": [], "payloads": []}
        for recipient_id, broadcast_id, sender_id, chat_id, is_blocked, opted_out, partner_lang, lang in rows:
            if opted_out:
                optout.append(recipient_id)
            elif is_blocked:
                (to_sms if self.browse(broadcast_id).sms_fallback else blocked).append(recipient_id)
            else:
                lang = reader_lang(self.env, partner_lang, lang)
                if (broadcast_id, lang) not in templates:
                    broadcast = self.browse(broadcast_id)
                    templates[broadcast_id, lang] = (
                        broadcast.with_context(lang=lang) if lang else broadcast
                    )._chatbot_message("")
                template = templates[broadcast_id, lang]
                template.chat_id = chat_id
                queued["recipients"].append(recipient_id)
                queued["senders"].append(sender_id)
                queued["chats"].append(str(chat_id))
                queued["payloads"].append(Json(template.to_dict()))
        Recipient.browse(optout).write(
            {"state": "optout", "error": self.env._("The customer asked for no more broadcasts (/stop).")}
        )
        Recipient.browse(blocked).write(
            {"state": "blocked", "error": self.env._("The customer blocked the bot.")}
        )
        Recipient.browse(to_sms).write({"via": "sms"})
        if queued["recipients"]:
            # The queue rows and their recipients' link in one statement: the refill runs while the queue
            # waits (measured: the ORM create of 200 rows and the update took about 0.1 s, the pauses that
            # kept a 10,000 broadcast at 93 % of the channel's rate). The rows are technical (no
            # computed field but the company, given here).
            self.env["chatbot.outbound"].flush_model()
            self.env.cr.execute(
                """
                WITH v AS (
                    SELECT * FROM unnest(%(recipients)s::int[], %(senders)s::int[],
                                         %(chats)s::varchar[], %(payloads)s::jsonb[])
                                  AS v(recipient_id, sender_id, chat_id, payload)
                ), queued AS (
                    INSERT INTO chatbot_outbound (channel_id, company_id, sender_id, chat_id, kind, payload,
                                                  state, attempts, next_try, broadcast_recipient_id,
                                                  create_uid, write_uid, create_date, write_date)
                    SELECT %(channel)s, %(company)s, v.sender_id, v.chat_id, 'send', v.payload, 'queued', 0,
                           %(now)s,
                           v.recipient_id, %(uid)s, %(uid)s,
                           now() at time zone 'UTC', now() at time zone 'UTC'
                      FROM v ORDER BY v.recipient_id
                    RETURNING id, broadcast_recipient_id
                )
                UPDATE chatbot_broadcast_recipient r
                   SET outbound_id = queued.id, state = 'queued', write_date = now() at time zone 'UTC'
                  FROM queued
                 WHERE r.id = queued.broadcast_recipient_id
                """,
                {
                    **queued,
                    "channel": channel.id,
                    "company": channel.company_id.id,
                    "now": fields.Datetime.now(),
                    "uid": self.env.uid,
                },
            )
            Recipient.invalidate_model(["outbound_id", "state", "write_date"])
        if len(rows) < limit:
            # the last ones of a broadcast: the cron finishes it (SMS, totals)
            wake_cron(self.env, BROADCAST_CRON)
        return len(queued["recipients"])

    @api.model
    def _cron_send(self, batch_size=500, time_budget=None):
        """Start the scheduled broadcasts that are due, give the outbound queue the first messages of each
        channel's broadcasts (it takes the next ones itself while it sends), send the SMS, finish the
        broadcasts nobody is left to reach. Bounded by the time budget; triggers itself for what is left."""
        time_budget = cron_time_budget() if time_budget is None else time_budget
        started = time.monotonic()
        now = fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT id FROM chatbot_broadcast WHERE state = 'scheduled' AND scheduled_date <= %s
                ORDER BY scheduled_date, id FOR UPDATE SKIP LOCKED""",
            [now],
        )
        for broadcast in self.browse([row[0] for row in self.env.cr.fetchall()]):
            broadcast._chatbot_start()
            self._chatbot_commit()
        left = False
        for channel in self._chatbot_channels_to_feed():
            if self._chatbot_feed(channel, batch_size):
                wake_cron(self.env, OUTBOUND_CRON)
            self._chatbot_commit()
        while time.monotonic() - started < time_budget:
            if not self._chatbot_send_sms(SMS_BATCH):
                break
        else:
            left = True
        self._chatbot_sync_sms()
        self.search([("state", "=", "sending")])._chatbot_finish()
        self._chatbot_commit()
        if left:
            self.env.ref(BROADCAST_CRON)._trigger()
        return True

    def _chatbot_commit(self):
        if auto_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _chatbot_channels_to_feed(self):
        """Channels with recipients waiting and no broadcast message of theirs in the queue: the queue does
        not know about them yet."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT s.channel_id
              FROM chatbot_broadcast b
              JOIN chatbot_broadcast_recipient r ON r.broadcast_id = b.id AND r.state = 'pending'
                                                AND r.via = 'messenger'
              JOIN chatbot_sender s ON s.id = r.sender_id
             WHERE b.state = 'sending'
               AND NOT EXISTS (SELECT 1 FROM chatbot_outbound o
                                WHERE o.channel_id = s.channel_id AND o.state IN ('queued', 'sending')
                                  AND o.broadcast_recipient_id IS NOT NULL)
            """
        )
        return self.env["chatbot.channel"].browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _chatbot_send_sms(self, limit):
        """Send the SMS of the next `limit` recipients the messenger cannot reach, through Odoo's SMS
        queue (`sms.sms`). Returns how many recipients it dealt with."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT r.id FROM chatbot_broadcast_recipient r JOIN chatbot_broadcast b ON b.id = r.broadcast_id
             WHERE b.state = 'sending' AND r.state = 'pending' AND r.via = 'sms'
             ORDER BY r.id LIMIT %s
             FOR UPDATE OF r SKIP LOCKED
            """,
            [limit],
        )
        recipients = self.env["chatbot.broadcast.recipient"].browse(
            [row[0] for row in self.env.cr.fetchall()]
        )
        if not recipients:
            return 0
        # sudo: SMS are technical records; the broadcast's sender asked for them
        Sms = self.env["sms.sms"].sudo()
        values, linked = [], []
        for broadcast, group in recipients.grouped("broadcast_id").items():
            bodies = broadcast._chatbot_sms_bodies(group.partner_id)
            for recipient in group:
                number = (
                    recipient.partner_id.phone_sanitized
                    or recipient.sender_id.phone
                    or (recipient.partner_id.mobile or recipient.partner_id.phone)
                )
                if not number:
                    recipient.write(
                        {"state": "failed", "error": self.env._("No phone number to send the SMS to.")}
                    )
                    continue
                body = bodies.get(recipient.partner_id.id) or broadcast.body or ""
                values.append({"number": number, "body": body, "partner_id": recipient.partner_id.id})
                linked.append(recipient)
        sms = Sms.create(values) if values else Sms
        for recipient, one_sms in zip(linked, sms, strict=True):
            recipient.write({"sms_id": one_sms.id, "state": "queued"})
        self._chatbot_commit()
        # as sms.sms's own queue does: the gateway's answer sets each SMS's state
        sms.send(unlink_failed=False, unlink_sent=False, auto_commit=False, raise_exception=False)
        self._chatbot_sync_sms(recipients)
        self._chatbot_commit()
        return len(recipients)

    def _chatbot_sms_bodies(self, partners):
        """The SMS text per contact id: the template filled in for each, in their language."""
        self.ensure_one()
        template = self.sms_template_id
        if not template or not partners:
            return {}
        return template._render_field("body", partners.ids, compute_lang=True)

    @api.model
    def _chatbot_sync_sms(self, recipients=None):
        """Recipients reached by SMS follow their SMS's state."""
        if recipients is None:
            recipients = self.env["chatbot.broadcast.recipient"].search(
                [
                    ("via", "=", "sms"),
                    ("state", "=", "queued"),
                    ("broadcast_id.state", "in", ("sending", "done")),
                ]
            )
        failure_labels = dict(self.env["sms.sms"]._fields["failure_type"]._description_selection(self.env))
        for recipient in recipients.filtered(lambda r: r.state == "queued" and r.via == "sms"):
            sms = recipient.sms_id.sudo()  # sudo: only the state of the recipient's own SMS is read
            if not sms or sms.state in ("pending", "sent", "process"):
                recipient.write({"state": "sent", "sent_date": fields.Datetime.now(), "error": False})
            elif sms.state == "error":
                recipient.write(
                    {"state": "failed", "error": failure_labels.get(sms.failure_type) or sms.failure_type}
                )
            elif sms.state == "canceled":
                recipient.write({"state": "cancelled"})

    def _chatbot_finish(self):
        """Broadcasts with nobody left to reach are done."""
        if not self:
            return self
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT b.id FROM chatbot_broadcast b
                WHERE b.id IN %s AND b.state = 'sending'
                  AND NOT EXISTS (SELECT 1 FROM chatbot_broadcast_recipient r
                                   WHERE r.broadcast_id = b.id AND r.state IN ('pending', 'queued'))""",
            [tuple(self.ids)],
        )
        done = self.browse([row[0] for row in self.env.cr.fetchall()])
        done.write({"state": "done", "end_date": fields.Datetime.now()})
        return done
