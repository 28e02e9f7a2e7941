import logging
import time
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_datetime

from odoo.addons.chatbot_base.models.chatbot_bot import MANAGER_GROUP
from odoo.addons.chatbot_base.tools.connector import Button
from odoo.addons.chatbot_base.tools.cron_wakeup import cron_time_budget, trigger_at
from odoo.addons.chatbot_base.tools.i18n import reader_lang
from odoo.addons.chatbot_base.tools.queue import auto_commit

from .chatbot_broadcast_button import OPTOUT_DATA

# the data of the Accept and Decline buttons a messenger operator gets with an offered dialog
OFFER_PREFIX = "offer:"
# the data of the rating buttons a customer gets when a consultation ends: "rate:<dialog id>:<value>"
RATING_PREFIX = "rate:"
# Odoo's rating scale (rating.rating): 5 satisfied, 3 okay, 1 dissatisfied
RATINGS = [("5", "Good"), ("3", "Okay"), ("1", "Bad")]
# how long after rating the customer's next message is the rating's comment
RATING_COMMENT_MINUTES = 10

_logger = logging.getLogger(__name__)


class OptionalInteger(fields.Integer):
    """An integer that stays NULL in the database when it does not apply (False in Python): the reports'
    averages leave those dialogs out, as SQL's AVG does (a dialog nobody answered has no time to first
    reply, not a time of 0)."""

    def convert_to_column(self, value, record, values=None, validate=True):
        return None if value is None or value is False else int(value)

    def convert_to_cache(self, value, record, validate=True):
        return None if value is None or value is False else super().convert_to_cache(value, record, validate)

    def convert_to_record(self, value, record):
        return False if value is None else value


class ChatbotDialog(models.Model):
    """The operator side of a dialog: the queue, the routing to an operator, the conversation in Discuss
    or in the operator's messenger, the customer's commands, the timeouts."""

    _inherit = "chatbot.dialog"

    operator_bot_id = fields.Many2one(
        "chatbot.bot",
        "Operator bot",
        compute="_compute_operator_bot_id",
        store=True,
        readonly=False,
        index="btree_not_null",
        help="The consultation bot that routes this dialog to its operators.",
    )
    queue_date = fields.Datetime("Waiting since", readonly=True, copy=False)
    queue_position = fields.Integer("Told position", readonly=True, copy=False)
    assign_date = fields.Datetime("Taken on", readonly=True, copy=False)
    close_reason = fields.Selection(
        [
            ("customer", "Ended by the customer"),
            ("operator", "Closed by the operator"),
            ("inactivity", "No activity"),
            ("timeout", "Waited too long"),
            ("transfer", "Transferred"),
            ("idle", "Left with the bot"),
        ],
        readonly=True,
        copy=False,
    )
    discuss_channel_id = fields.Many2one(
        "discuss.channel",
        "Conversation",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    transfer_count = fields.Integer("Transfers", readonly=True, copy=False)
    offer_operator_id = fields.Many2one(
        "chatbot.operator",
        "Offered to",
        readonly=True,
        copy=False,
        ondelete="set null",
        index="btree_not_null",
        help="Accept mode: the operator this waiting dialog is offered to, until they accept or decline it.",
    )
    offer_date = fields.Datetime("Offered on", readonly=True, copy=False)
    declined_operator_ids = fields.Many2many(
        "chatbot.operator",
        "chatbot_dialog_declined_operator_rel",
        "dialog_id",
        "operator_id",
        "Declined by",
        readonly=True,
        copy=False,
        help="Operators who declined the dialog or let the offer expire: it is offered to others.",
    )
    silent_operator_id = fields.Many2one(
        "chatbot.operator",
        "Left unanswered by",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The operator who did not answer in time: the queue gives the dialog to someone else.",
    )
    requeue_date = fields.Datetime(
        "Back in the queue",
        readonly=True,
        copy=False,
        help="When a silent operator's dialog went back to the head of the queue: the max waiting time "
        "counts from here, not from its place at the head.",
    )
    customer_lang = fields.Char(
        related="sender_id.lang",
        store=True,
        string="Customer language",
        help="The customer's messenger language.",
    )
    wait_seconds = fields.Integer(
        "Waiting time (s)",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="How long the customer waited in the queue before an operator took the dialog.",
    )
    first_reply_seconds = OptionalInteger(
        "Time to first reply (s)",
        compute="_compute_reply_figures",
        store=True,
        aggregator="avg",
        help="From the operator taking the dialog to their first answer.",
    )
    handling_seconds = OptionalInteger(
        "Handling time (s)",
        compute="_compute_reply_figures",
        store=True,
        aggregator="avg",
        help="From the operator taking the dialog to its end.",
    )
    first_reply_on_time = OptionalInteger(
        "Answered within target (%)",
        compute="_compute_reply_figures",
        store=True,
        aggregator="avg",
        help="100 when the first reply came within the operator bot's first-reply target, 0 when late; empty "
        "without a target: its average is the share of dialogs answered in time.",
    )
    message_total = OptionalInteger(
        "Messages in the dialog",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Counted when a dialog with an operator ends.",
    )
    first_reply_late = fields.Boolean(
        "First reply late",
        compute="_compute_reply_figures",
        store=True,
        readonly=True,
        copy=False,
        help="The operator's first answer came after the operator bot's first-reply target (or has not come "
        "and the target has passed).",
    )
    rating = fields.Selection(
        RATINGS, readonly=True, copy=False, help="How the customer rated the consultation."
    )
    rating_value = fields.Integer(
        "Rating (1-5)",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Odoo's rating scale: 5 good, 3 okay, 1 bad; 0 when not rated.",
    )
    rating_comment = fields.Text("Rating comment", readonly=True, copy=False)
    rating_date = fields.Datetime("Rated on", readonly=True, copy=False)
    transfer_note = fields.Text(
        "Note from the previous operator",
        readonly=True,
        copy=False,
        help="What the operator who transferred the dialog wrote for whoever takes it.",
    )
    similar_partner_ids = fields.Many2many(
        "res.partner",
        "chatbot_dialog_similar_partner_rel",
        "dialog_id",
        "partner_id",
        "Similar contacts",
        readonly=True,
        copy=False,
        help="Contacts that may be the customer's (same phone, e-mail, name or messenger username), found "
        "when the chat started or on demand: merge them to keep one contact with the whole history.",
    )
    similar_partner_count = fields.Integer(compute="_compute_similar_partner_count")
    served_by_group = fields.Boolean(
        "Served by the operators' group",
        readonly=True,
        copy=False,
        help="The customer's messages go to the operators' group of the channel.",
    )

    def init(self):
        result = super().init()
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS chatbot_dialog_waiting_idx "
            "ON chatbot_dialog (operator_bot_id, queue_date, id) WHERE state = 'waiting'"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS chatbot_dialog_active_idx "
            "ON chatbot_dialog (operator_id, last_activity_date) WHERE state = 'active'"
        )
        return result

    @api.model_create_multi
    def create(self, vals_list):
        dialogs = super().create(vals_list)
        # a new sender's first dialog: its contact was just made (or matched) from the messenger profile,
        # the moment to look for the contacts that may be the same person
        # (made in the sender's transaction: the same create_date, both in the cache; no query per dialog)
        first = dialogs.filtered(
            lambda d: d.partner_id and not d.parent_id and d.sender_id.create_date == d.create_date
        )
        first._chatbot_find_similar()
        return dialogs

    @api.depends("assign_date", "first_reply_date", "close_date", "operator_bot_id")
    def _compute_reply_figures(self):
        now = fields.Datetime.now()
        for dialog in self:
            start = dialog.assign_date
            # the operator bot's first-reply target; an unanswered dialog is late once it has passed (the
            # queue's cron marks those still open, see _chatbot_due_timeouts)
            target = (dialog.operator_bot_id or dialog.bot_id).sudo().first_reply_target * 60
            answered = dialog.first_reply_date or dialog.close_date or now
            dialog.first_reply_late = bool(
                target and start and dialog.operator_id and (answered - start).total_seconds() > target
            )
            dialog.first_reply_on_time = (
                (0 if dialog.first_reply_late else 100)
                if target
                and start
                and dialog.operator_id
                and (dialog.first_reply_date or dialog.first_reply_late)
                else False
            )
            dialog.first_reply_seconds = (
                int((dialog.first_reply_date - start).total_seconds())
                if start and dialog.first_reply_date and dialog.first_reply_date >= start
                else False
            )
            dialog.handling_seconds = (
                int((dialog.close_date - start).total_seconds()) if start and dialog.close_date else False
            )

    @api.depends("similar_partner_ids", "partner_id")
    def _compute_similar_partner_count(self):
        for dialog in self:
            # a merge moves the link onto the contact that remains: it is no duplicate of itself
            dialog.similar_partner_count = len(dialog.similar_partner_ids - dialog.partner_id)

    @api.depends("bot_id", "state")
    def _compute_operator_bot_id(self):
        for dialog in self:
            if dialog.operator_bot_id:
                continue  # kept: a transfer may have given it to another consultation bot
            if dialog.bot_id.bot_type == "operator":
                dialog.operator_bot_id = dialog.bot_id
            elif dialog.state in ("waiting", "active"):
                # a client bot's dialog with (or waiting for) an operator: its bot's consultation bot
                dialog.operator_bot_id = dialog.bot_id._chatbot_operator_bot()

    @api.model
    def _chatbot_link_operator_bots(self):
        """Dialogs waiting for or with an operator but linked to no consultation bot (made before their bot
        was linked to one, as the demo's are) get their bot's: the queue routes them, the bot counts them."""
        dialogs = self.search([("state", "in", ("waiting", "active")), ("operator_bot_id", "=", False)])
        dialogs._compute_operator_bot_id()
        dialogs.filtered(lambda d: d.state == "waiting" and not d.queue_date).write(
            {"queue_date": fields.Datetime.now()}
        )
        return dialogs

    # ------------------------------------------------------------------------------------------
    # Customer events
    # ------------------------------------------------------------------------------------------

    def _chatbot_on_customer_event(self, message, event):
        super()._chatbot_on_customer_event(message, event)
        command = event.command
        if command == "stop" or event.button_data == OPTOUT_DATA:
            self.sender_id._chatbot_opt_out(self)
            return
        if command == "operator" and self.state == "bot":
            self.sender_id._chatbot_request_operator_role(self)
            return
        if command == "end":
            if self.state in ("waiting", "active"):
                self._chatbot_end("customer")
            else:
                self.action_close()
            return
        if self.state == "bot":
            self._chatbot_on_bot_event(message, event)
            return
        if self.state == "waiting":
            if command == "start" and self.queue_position:
                self._chatbot_tell_position(self.queue_position, force=True)
            return  # kept in the dialog; the operator sees it when they take it
        if command == "start":
            return
        self._chatbot_forward(message)

    def _chatbot_on_bot_event(self, message, event):
        """A customer's event while the dialog is with the bot, before any operator. A consultation bot
        hands the customer to an operator at once (after /start when it waits for it); chatbot_client runs
        the client bot's flow here."""
        if self.bot_id.bot_type != "operator":
            return
        if self.bot_id._chatbot_settings().wait_start_message and event.command != "start":
            self._chatbot_send(self._chatbot_say("text_not_found"))
            return
        self._chatbot_request_operator()

    def _chatbot_customer_lang(self):
        """The Odoo language the customer reads: their contact's, else their messenger's."""
        self.ensure_one()
        # sudo and the one column: the contact's row is wide and its record rules cost a company fetch, for
        # every customer message (measured: a quarter of the inbound processing time)
        partner = self.partner_id.sudo().with_context(prefetch_fields=False)
        return reader_lang(self.env, partner.lang, self.sender_id.lang)

    def _chatbot_say(self, key, bot=None, **values):
        """One of the texts of the dialog's bot (the bot the customer talks to), or of `bot`, in the
        customer's language."""
        self.ensure_one()
        return (bot or self.bot_id)._chatbot_text(key, lang=self._chatbot_customer_lang(), **values)

    def _chatbot_on_customer_edit(self, message, event):
        super()._chatbot_on_customer_edit(message, event)
        if self.state != "active":
            return
        if self.served_by_group:
            self._chatbot_relay_to_group(message)
        elif message.mail_message_id:
            body = Markup("%s <em>(%s)</em>") % (message.body or "", self.env._("edited"))
            # sudo: the processing user edits the customer's message it posted in the conversation
            channel = self.discuss_channel_id.sudo()
            channel._message_update_content(message.mail_message_id.sudo(), body)
        elif self.operator_id.sender_id:
            dialog = self._chatbot_for_operator()
            dialog._chatbot_send_to_operator(
                dialog.env._(
                    "%(name)s edited a message: %(text)s",
                    name=self._chatbot_customer_name(),
                    text=message.body,
                )
            )

    # ------------------------------------------------------------------------------------------
    # Queue and routing
    # ------------------------------------------------------------------------------------------

    def _chatbot_request_operator(self, operator_bot=None):
        """The dialog needs an operator: the operators' group, a free operator, or the queue."""
        self.ensure_one()
        bot = operator_bot or self.operator_bot_id or self.bot_id._chatbot_operator_bot()
        if not bot:
            raise UserError(
                self.env._("%(bot)s has no operator bot to hand customers over to.", bot=self.bot_id.name)
            )
        if bot.bot_type != "operator":
            raise UserError(self.env._("%(bot)s is not an Operator Chat bot.", bot=bot.name))
        if self.operator_bot_id != bot:
            self.operator_bot_id = bot
        if self.channel_id._chatbot_has_operator_group():
            self.write({"state": "active", "served_by_group": True, "assign_date": fields.Datetime.now()})
            for message in self.message_ids.filtered(lambda m: m.direction == "in"):
                self._chatbot_relay_to_group(message)
            self._chatbot_send(self._chatbot_say("text_how_to_end"))
            return self.env["chatbot.operator"]
        if not bot._chatbot_is_open():
            return self._chatbot_off_hours(bot)
        # first come, first served: with customers already waiting, a free place is theirs (the queue's
        # dispatch gives it); the operators who let this dialog go are left out
        ahead = self._chatbot_someone_waiting(bot)
        operator = self.env["chatbot.operator"]
        if not ahead:
            operator = bot._chatbot_pick_operator(self.partner_id, exclude=self.declined_operator_ids)
        if operator:
            self._chatbot_give(operator)
            return operator
        self.write({"state": "waiting", "queue_date": fields.Datetime.now(), "queue_position": 0})
        if ahead and self in bot._chatbot_dispatch_queue():
            return self.operator_id or self.offer_operator_id
        if not bot._chatbot_has_available_operators():
            self._chatbot_send(self._chatbot_say("text_no_operator"))
        else:
            self._chatbot_tell_position(self._chatbot_queue_position())
        return operator

    def _chatbot_off_hours(self, bot):
        """The customer asks for an operator outside the working hours of `bot`: they wait in its queue until
        the opening, told when the team is back (chatbot_client may send them to a flow step instead)."""
        self.ensure_one()
        now = fields.Datetime.now()
        self.write({"state": "waiting", "queue_date": now, "queue_position": 0})
        opening = bot._chatbot_opening(now)
        if opening:
            # the queue is dispatched at the opening (one second more: see _chatbot_offer)
            trigger_at(
                self.env, "chatbot_operator.ir_cron_chatbot_operator_queue", opening + timedelta(seconds=1)
            )
        lang = self._chatbot_customer_lang()
        when = (
            format_datetime(
                self.with_context(lang=lang).env,
                opening,
                tz=bot.sudo().resource_calendar_id.tz,
                dt_format="EEEE HH:mm",
            )
            if opening
            else self.env._("soon")
        )
        if not self.sender_id.is_blocked:
            self._chatbot_send(self._chatbot_say("text_off_hours", opening=when), author_kind="system")
        return self.env["chatbot.operator"]

    def _chatbot_someone_waiting(self, bot):
        """Whether another customer waits in the queue of `bot` (one indexed query)."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT 1 FROM chatbot_dialog
                WHERE operator_bot_id = %s AND state = 'waiting' AND id != %s LIMIT 1""",
            [bot.id, self.id],
        )
        return bool(self.env.cr.fetchone())

    def _chatbot_queue_position(self):
        """1 for the first waiting customer of the operator bot (one indexed count)."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT count(*) FROM chatbot_dialog
                WHERE operator_bot_id = %s AND state = 'waiting' AND (queue_date, id) <= (%s, %s)""",
            [self.operator_bot_id.id, self.queue_date, self.id],
        )
        return self.env.cr.fetchone()[0]

    def _chatbot_tell_position(self, position, force=False):
        self.ensure_one()
        if not position or (position == self.queue_position and not force):
            return
        self.queue_position = position
        if not self.sender_id.is_blocked:
            self._chatbot_send(self._chatbot_say("text_queue", position=position), author_kind="system")

    def _chatbot_give(self, operator):
        """The routing chose `operator`: the dialog is theirs, or, when the operator bot wants its operators
        to accept new dialogs, it is offered to them."""
        self.ensure_one()
        bot = self.operator_bot_id or self.bot_id
        if bot.sudo().accept_mode:
            self._chatbot_offer(operator)
        else:
            self._chatbot_assign(operator)

    def _chatbot_offer(self, operator):
        """Offer the waiting dialog to `operator` (accept mode): it keeps its place in the queue and counts in
        the operator's load until they accept or decline it, or the time to accept runs out."""
        self.ensure_one()
        now = fields.Datetime.now()
        self.write(
            {
                "state": "waiting",
                "queue_date": self.queue_date or now,
                "offer_operator_id": operator.id,
                "offer_date": now,
            }
        )
        operator.sudo()._chatbot_mark_assigned()
        operator.sudo()._chatbot_update_load()
        timeout = (self.operator_bot_id or self.bot_id).sudo().accept_timeout or 30
        # one second more: Odoo's datetimes drop the fraction, the offer must have run out when the cron runs
        trigger_at(
            self.env, "chatbot_operator.ir_cron_chatbot_operator_queue", now + timedelta(seconds=timeout + 1)
        )
        name = self._chatbot_customer_name()
        if operator.user_id:
            operator.user_id._bus_send(
                "chatbot/offer",
                {
                    "dialogId": self.id,
                    "code": self.code,
                    "title": self.env._("New chat: %(name)s", name=name),
                    "message": self.env._(
                        "%(name)s (%(code)s) waits for you: accept within %(seconds)s seconds.",
                        name=name,
                        code=self.code,
                        seconds=timeout,
                    ),
                },
            )
        elif operator.sender_id:
            env = self._chatbot_for_operator(operator).env
            operator.sender_id._chatbot_notify(
                env._(
                    "New customer: %(name)s (%(code)s). Accept within %(seconds)s seconds?",
                    name=name,
                    code=self.code,
                    seconds=timeout,
                ),
                buttons=[
                    [
                        Button(label=env._("Accept"), data=f"{OFFER_PREFIX}accept:{self.id}"),
                        Button(label=env._("Decline"), data=f"{OFFER_PREFIX}decline:{self.id}"),
                    ]
                ],
            )

    def action_accept(self):
        """The operator the dialog is offered to takes it."""
        self.ensure_one()
        dialog = self.sudo()
        operator = dialog.offer_operator_id
        if dialog.state != "waiting" or not operator:
            raise UserError(self.env._("Dialog %(code)s is no longer offered to anyone.", code=dialog.code))
        if not self.env.su and operator.user_id != self.env.user:
            raise AccessError(
                self.env._("Dialog %(code)s is offered to %(name)s.", code=dialog.code, name=operator.name)
            )
        dialog.write({"offer_operator_id": False, "offer_date": False})
        dialog._chatbot_assign(operator)
        return True

    def action_decline(self):
        """The operator the dialog is offered to does not take it: it is offered to the next one."""
        self.ensure_one()
        dialog = self.sudo()
        operator = dialog.offer_operator_id
        if not operator:
            return True
        if not self.env.su and operator.user_id != self.env.user:
            raise AccessError(
                self.env._("Dialog %(code)s is offered to %(name)s.", code=dialog.code, name=operator.name)
            )
        dialog._chatbot_withdraw_offer()
        return True

    def _chatbot_withdraw_offer(self):
        """The offer ends unaccepted (declined, or the time ran out): the operator is left out of this dialog,
        which keeps its place and goes to the next operator."""
        for dialog in self:
            operator = dialog.offer_operator_id
            dialog.write(
                {
                    "offer_operator_id": False,
                    "offer_date": False,
                    "declined_operator_ids": [(4, operator.id)] if operator else [],
                }
            )
            operator._chatbot_update_load()
        bots = self.operator_bot_id | self.bot_id.filtered(lambda b: b.bot_type == "operator")
        bots._chatbot_dispatch_queue()
        # offered on arrival, the customer was told no place: left waiting, they are told it now
        bots._chatbot_tell_positions()

    def _chatbot_assign(self, operator, previous=None):
        """Give the dialog to `operator` (whose row the caller locked): the conversation, the greetings. The
        `previous` operator (by default the dialog's; the parent's for a transferred dialog) leaves the
        conversation, and the customer, who talked to them already, gets no greeting."""
        self.ensure_one()
        previous = self.operator_id if previous is None else previous
        now = fields.Datetime.now()
        waited = int((now - self.queue_date).total_seconds()) if self.queue_date else 0
        self.write(
            {
                "state": "active",
                "operator_id": operator.id,
                "assign_date": now,
                "wait_seconds": self.wait_seconds + waited,
                "queue_date": False,
                "queue_position": 0,
                "last_activity_date": now,
            }
        )
        operator.sudo()._chatbot_mark_assigned()
        (operator | previous).sudo()._chatbot_update_load()
        target = (self.operator_bot_id or self.bot_id).sudo().first_reply_target
        if target:
            # the cron marks the dialog late if no answer came by then (one second more: see _chatbot_offer)
            trigger_at(
                self.env,
                "chatbot_operator.ir_cron_chatbot_operator_queue",
                now + timedelta(minutes=target, seconds=1),
            )
        if operator.user_id:
            self._chatbot_open_conversation(operator, previous)
        else:
            self._chatbot_brief_messenger_operator(operator)
        if not previous:
            if self.bot_id._chatbot_settings().send_greeting:
                self._chatbot_send(f"{operator.name} {self._chatbot_say('text_connected')}".strip())
            self._chatbot_send(self._chatbot_say("text_how_to_end"))

    def _chatbot_end(self, reason, text_key="text_completed"):
        """Close the dialog and tell the customer (the completion or the timeout text); a consultation with an
        operator asks for a rating when its operator bot does."""
        for dialog in self.filtered(lambda d: d.state != "closed"):
            text = dialog._chatbot_say(text_key)
            if text and not dialog.sender_id.is_blocked:
                dialog._chatbot_send(text, author_kind="system")
            dialog.close_reason = reason
            if reason != "timeout" and dialog.operator_id and not dialog.sender_id.is_blocked:
                dialog._chatbot_ask_rating()
        return self.action_close()

    # ------------------------------------------------------------------------------------------
    # Ratings in the messenger
    # ------------------------------------------------------------------------------------------

    def _chatbot_ask_rating(self):
        """The rating question with Odoo's scale as buttons (Good, Okay, Bad)."""
        self.ensure_one()
        bot = (self.operator_bot_id or self.bot_id).sudo()
        if not bot.rating_enabled:
            return
        lang = self._chatbot_customer_lang()
        labels = dict(self._fields["rating"]._description_selection(self.with_context(lang=lang).env))
        self._chatbot_send(
            self._chatbot_rating_text("text_rating"),
            author_kind="system",
            buttons=[
                [Button(label=labels[v], data=f"{RATING_PREFIX}{self.id}:{v}") for v, _label in RATINGS]
            ],
        )

    def _chatbot_rate(self, value):
        """The customer pressed a rating button of this (closed) dialog: the rating is kept (a second press
        changes it), the operator learns it, the customer is thanked."""
        self.ensure_one()
        if value not in dict(RATINGS):
            return
        self.write({"rating": value, "rating_value": int(value), "rating_date": fields.Datetime.now()})
        self.sender_id.rated_dialog_id = self  # their next message may be the comment
        self._chatbot_tell_operator_rating()
        self._chatbot_send(self._chatbot_rating_text("text_rating_thanks"), author_kind="system")

    def _chatbot_comment_rating(self, text):
        """The customer's message just after rating: the rating's comment."""
        self.ensure_one()
        self.rating_comment = text
        self._chatbot_tell_operator_rating()
        self._chatbot_send(self._chatbot_rating_text("text_rating_comment"), author_kind="system")

    def _chatbot_rating_text(self, key):
        return self._chatbot_say(key, bot=(self.operator_bot_id or self.bot_id).sudo())

    def _chatbot_tell_operator_rating(self):
        """The operator sees the rating: a note in the conversation, or a message to a messenger operator."""
        # a note in the conversation, else a message in the messenger operator's language
        env = self.env if self.discuss_channel_id else self._chatbot_for_operator().env
        label = dict(self._fields["rating"]._description_selection(env)).get(self.rating, "")
        text = env._(
            "%(name)s rated dialog %(code)s: %(rating)s.",
            name=self._chatbot_customer_name(),
            code=self.code,
            rating=label,
        )
        if self.rating_comment:
            text = env._("%(rating)s Comment: %(comment)s", rating=text, comment=self.rating_comment)
        channel = self.discuss_channel_id.sudo()
        if channel:
            channel.with_context(chatbot_no_relay=True).message_post(
                body=text, message_type="comment", subtype_xmlid="mail.mt_note"
            )
        elif self.operator_id.sender_id:
            self.operator_id.sender_id._chatbot_notify(text)

    @api.model
    def _chatbot_rating_event(self, sender, event):
        """A rating button, or the comment that follows a rating, from `sender`: handled here (True), not
        as a new dialog."""
        data = event.button_data or ""
        if event.kind == "button" and data.startswith(RATING_PREFIX):
            _prefix, dialog_id, value = (data.split(":", 2) + ["", ""])[:3]
            dialog = self.browse(int(dialog_id) if dialog_id.isdigit() else 0).exists()
            if dialog and dialog.sender_id == sender and dialog.state == "closed":
                dialog._chatbot_rate(value)
            return True
        # the sender's row (in the cache since the update's upsert) says whether a comment may follow: no
        # query for every other message
        rated = sender.rated_dialog_id
        if not rated or event.kind != "message" or not (event.text or "").strip() or event.command:
            return False
        sender.rated_dialog_id = False
        since = fields.Datetime.now() - timedelta(minutes=RATING_COMMENT_MINUTES)
        if rated.rating_comment or (rated.rating_date or since) < since:
            return False
        if self.search_count([("sender_id", "=", sender.id), ("state", "!=", "closed")], limit=1):
            return False
        rated._chatbot_comment_rating(event.text.strip())
        return True

    def _chatbot_count_messages(self):
        """Keep the number of messages of ending dialogs, for the reports (one query)."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE chatbot_dialog d
                  SET message_total = (SELECT count(*) FROM chatbot_dialog_message m WHERE m.dialog_id = d.id)
                WHERE d.id = ANY(%s)""",
            [self.ids],
        )
        self.invalidate_recordset(["message_total"])

    def action_close(self):
        """Close: free the operator (the next waiting customer gets them), end the conversation."""
        closing = self.filtered(lambda d: d.state != "closed")
        # the consultations' figure: a dialog that stayed with the bot costs no query for it
        closing.filtered(lambda d: d.operator_id or d.served_by_group)._chatbot_count_messages()
        operators = closing.operator_id | closing.offer_operator_id
        bots = closing.operator_bot_id
        result = super().action_close()
        for dialog in closing:
            if not dialog.close_reason:
                dialog.close_reason = "operator"
            if dialog.discuss_channel_id:
                dialog.discuss_channel_id.sudo().message_post(
                    body=self.env._("The dialog %(code)s is closed.", code=dialog.code),
                    message_type="notification",
                    subtype_xmlid="mail.mt_note",
                )
                # its windows learn it: the composer gives way to a notice, the header's actions go
                dialog.discuss_channel_id._chatbot_refresh_dialog_state()
            if dialog.operator_id.sender_id and not dialog.operator_id.user_id:
                told = dialog._chatbot_for_operator()
                told._chatbot_send_to_operator(
                    told.env._("The dialog with %(name)s is closed.", name=dialog._chatbot_customer_name())
                )
        operators.sudo()._chatbot_update_load()
        bots.sudo()._chatbot_dispatch_queue()
        return result

    def action_end(self):
        """Close the dialog from the back office: the customer gets the completion text."""
        self._chatbot_check_operator_rights()
        self.sudo()._chatbot_end("operator")
        return True

    def action_transfer(self, operator, note=None):
        """Hand the dialog to `operator`, of this operator bot or another one (another department): the dialog
        ends and its child (returned) is theirs at once, in the same conversation with the whole history; the
        customer is told (the bot's Transfer text), the new operator reads the `note`."""
        self.ensure_one()
        self._chatbot_check_operator_rights()
        dialog = self.sudo()
        operator = operator.sudo()
        if operator.bot_id.bot_type != "operator":
            raise UserError(
                self.env._("%(operator)s is not an operator of a consultation bot.", operator=operator.name)
            )
        if operator == dialog.operator_id:
            raise UserError(self.env._("%(operator)s already handles this dialog.", operator=operator.name))
        if dialog.state == "closed":
            raise UserError(self.env._("The dialog %(code)s is closed.", code=dialog.code))
        # seed 002: an Active or an Inactive operator may be chosen, not one at their chat limit
        if operator.availability == "full":
            raise UserError(
                self.env._(
                    "%(operator)s cannot take it: %(state)s.",
                    operator=operator.name,
                    state=dict(operator._fields["availability"]._description_selection(self.env))[
                        operator.availability
                    ],
                )
            )
        child = dialog._chatbot_carry_on(operator.bot_id, note)
        child._chatbot_assign(operator, previous=dialog.operator_id)
        # the place the previous operator freed goes to the head of their queue at once
        dialog.operator_id.bot_id._chatbot_dispatch_queue()
        return child

    def action_transfer_to_queue(self, operator_bot, note=None):
        """Hand the dialog to the queue of `operator_bot` (another department, or this one): the dialog ends,
        the current operator leaves the conversation, and its child (returned) waits and is routed by that
        bot's rules (the customer is told the Transfer text, then their position), with the whole history
        and the `note` for whoever takes it."""
        self.ensure_one()
        self._chatbot_check_operator_rights()
        dialog = self.sudo()
        operator_bot = operator_bot.sudo()
        if operator_bot.bot_type != "operator":
            raise UserError(self.env._("%(bot)s is not a consultation bot.", bot=operator_bot.name))
        if dialog.state == "closed":
            raise UserError(self.env._("The dialog %(code)s is closed.", code=dialog.code))
        child = dialog._chatbot_carry_on(operator_bot, note)
        previous = dialog.operator_id
        if previous:
            child._chatbot_leave_conversation(previous)
            # the operator who handed it on is left out, as one who declined it: it goes to someone else
            child.declined_operator_ids = previous
        child._chatbot_request_operator(operator_bot)
        # the place the previous operator freed goes to the head of their queue at once
        previous.bot_id._chatbot_dispatch_queue()
        return child

    def _chatbot_carry_on(self, operator_bot, note=None):
        """Seed 002: a transfer ends this dialog and a child dialog carries it on, linked to it, in the same
        conversation with the whole history; the customer is told (the bot's Transfer text) and their next
        messages go to the child; the `note` waits for whoever takes it. Returns the child, with the bot
        until the caller gives it to an operator or a queue."""
        self.ensure_one()
        text = self._chatbot_say("text_transfer")
        if text and not self.sender_id.is_blocked:
            self._chatbot_send(text, author_kind="system")
        freed = self.operator_id | self.offer_operator_id
        # closed as transferred, not through action_close: the customer gets no completion text and the
        # conversation (a website visitor's own live chat session, a forum topic) goes on with the child
        self.write(
            {
                "state": "closed",
                "close_date": fields.Datetime.now(),
                "close_reason": "transfer",
                "transfer_count": self.transfer_count + 1,
                "offer_operator_id": False,
                "offer_date": False,
            }
        )
        # the child's INSERT meets the unique index of open dialogs: the parent's closing goes first
        self.flush_recordset()
        self._chatbot_count_messages()
        note = (note or "").strip()
        child = self.create(
            {
                **self._chatbot_child_values(),
                "operator_bot_id": operator_bot.id,
                "transfer_note": note or False,
            }
        )
        channel = self.discuss_channel_id.sudo()
        if channel:
            values = {"chatbot_dialog_id": child.id}
            if channel.name == self._chatbot_conversation_name():
                values["name"] = child._chatbot_conversation_name()
            channel.write(values)
            channel.with_context(chatbot_no_relay=True).message_post(
                body=self.env._(
                    "Dialog %(code)s transferred by %(name)s: it carries on as %(child)s.",
                    code=self.code,
                    name=self.env.user.name,
                    child=child.code,
                ),
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
            if note:
                channel.with_context(chatbot_no_relay=True).message_post(
                    body=self.env._(
                        "Note for the next operator from %(name)s: %(note)s",
                        name=self.env.user.name,
                        note=note,
                    ),
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
        freed.sudo()._chatbot_update_load()
        return child

    def _chatbot_child_values(self):
        values = super()._chatbot_child_values()
        values.update(
            discuss_channel_id=self.discuss_channel_id.id,
            transfer_count=self.transfer_count,
        )
        return values

    def _chatbot_hand_back_silent(self):
        """The operator left this new dialog unanswered for the bot's "reassign a silent operator" time: it
        goes to the next operator, or back to the head of the queue, and the first one is told."""
        self.ensure_one()
        previous = self.operator_id
        bot = self.operator_bot_id or self.bot_id
        minutes = bot.sudo().silent_operator_time
        told = self.env._(
            "You did not answer %(name)s (%(code)s) within %(minutes)s minutes: the dialog went to another "
            "operator.",
            name=self._chatbot_customer_name(),
            code=self.code,
            minutes=minutes,
        )
        self.write({"operator_id": False, "state": "bot", "silent_operator_id": previous.id})
        previous._chatbot_update_load()
        if previous.user_id:
            previous.user_id._bus_send(
                "simple_notification",
                {"type": "warning", "title": self.code, "message": told, "sticky": True},
            )
        self._chatbot_leave_conversation(previous, told)
        operator = bot._chatbot_pick_operator(self.partner_id, exclude=previous)
        if operator:
            self._chatbot_assign(operator)
            return operator
        # the head of the queue: before everyone waiting; its waiting time counts from now
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT min(queue_date) FROM chatbot_dialog WHERE operator_bot_id = %s AND state = 'waiting'",
            [bot.id],
        )
        head = self.env.cr.fetchone()[0]
        now = fields.Datetime.now()
        self.write(
            {
                "state": "waiting",
                "queue_date": min(head - timedelta(seconds=1), now) if head else now,
                "requeue_date": now,
                "queue_position": 0,
            }
        )
        self._chatbot_tell_position(self._chatbot_queue_position())
        return operator

    def _chatbot_leave_conversation(self, operator, told=None):
        """`operator` leaves the dialog's conversation (a transfer to a queue, a silent operator); a messenger
        operator is `told` why."""
        channel = self.discuss_channel_id.sudo()
        if channel and operator.user_id:
            channel.channel_member_ids.filtered(
                lambda m: m.partner_id == operator.user_id.partner_id
            ).unlink()
        elif operator.sender_id:
            operator.sender_id._chatbot_notify(
                told
                or self._chatbot_for_operator(operator).env._(
                    "Dialog %(code)s went back to the queue.", code=self.code
                )
            )

    def action_open_transfer(self):
        """The Transfer form: to an operator (with their state) or a queue, with a note."""
        self.ensure_one()
        self._chatbot_check_operator_rights()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Transfer %(code)s", code=self.code),
            "res_model": "chatbot.transfer",
            "view_mode": "form",
            "target": "new",
            "context": {"default_dialog_id": self.id},
        }

    def _chatbot_take(self, operator):
        self.ensure_one()
        if not operator:
            return self.env._(
                "Only the bot's approved operators take dialogs: write /operator to the bot in a private "
                "chat to ask."
            )
        if self.state == "closed":
            return self.env._("The dialog %(code)s is closed already.", code=self.code)
        if self.operator_id == operator:
            return self.env._("%(name)s handles this dialog already.", name=operator.name)
        if self.operator_id:
            return self.env._(
                "%(name)s handles this dialog: they can hand it on with /transfer.",
                name=self.operator_id.name,
            )
        now = fields.Datetime.now()
        self.write({"operator_id": operator.id, "assign_date": now, "last_activity_date": now})
        operator.sudo()._chatbot_mark_assigned()
        operator.sudo()._chatbot_update_load()
        return self.env._("%(name)s takes the dialog %(code)s.", name=operator.name, code=self.code)

    def _chatbot_operator_command(self, command, args=""):
        command = (command or "").lower()
        if command in ("close", "end"):
            if self.state == "closed":
                return self.env._("The dialog %(code)s is closed already.", code=self.code)
            self.action_end()
            return self.env._("Dialog %(code)s closed: the customer got the completion text.", code=self.code)
        if command == "transfer":
            return self._chatbot_transfer_by_name(args)
        return super()._chatbot_operator_command(command, args)

    def _chatbot_transfer_by_name(self, name):
        """/transfer <name>: hand the dialog to the one operator of its bot whose name contains `name`;
        without a match (or with several), what the operator is told lists the operators and their load."""
        self.ensure_one()
        name = (name or "").strip()
        operators = (
            self.env["chatbot.operator"]
            .sudo()
            .search(
                [("bot_id", "=", self.sudo().operator_bot_id.id), ("id", "!=", self.sudo().operator_id.id)]
            )
        )
        chosen = operators.filtered(lambda o: name and name.lower() in (o.name or "").lower())
        if len(chosen) == 1:
            self.action_transfer(chosen)
            return self.env._("Dialog %(code)s handed to %(name)s.", code=self.code, name=chosen.name)
        statuses = dict(self.env["chatbot.operator"]._fields["status"]._description_selection(self.env))
        listing = ", ".join(
            self.env._(
                "%(name)s (%(count)s, %(status)s)",
                name=o.name,
                count=o.active_dialog_count,
                status=statuses.get(o.status, o.status),
            )
            for o in operators
        ) or self.env._("none")
        if not chosen:
            return self.env._("Write /transfer and an operator's name. Operators: %(list)s", list=listing)
        return self.env._("Several operators match: be more precise. Operators: %(list)s", list=listing)

    def _chatbot_check_operator_rights(self):
        """A User answers, closes and transfers only their own dialogs; managers any."""
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        for dialog in self:
            if dialog.sudo().operator_id.user_id != self.env.user:
                raise AccessError(
                    self.env._(
                        "Only the operator of %(code)s (or a Bots manager) can do this.", code=dialog.code
                    )
                )

    def action_live_chat(self):
        """Start a new conversation with the customer of this (closed) dialog, handled by the current user."""
        self.ensure_one()
        dialog = self.sudo()
        return dialog.sender_id._chatbot_start_chat(dialog.operator_bot_id or dialog.bot_id)

    def _chatbot_action_open_conversation(self):
        self.ensure_one()
        if not self.discuss_channel_id:
            return self.action_view_messages()
        return {
            "type": "ir.actions.client",
            "tag": "mail.action_discuss",
            "params": {"active_id": f"discuss.channel_{self.discuss_channel_id.id}"},
        }

    def _chatbot_contact(self):
        """The dialog's contact, made from the customer's messenger profile when it has none yet (and the bot
        creates contacts); an empty recordset otherwise."""
        self.ensure_one()
        # sudo: the contact is made and linked for the operator, as the processing user does for new senders
        dialog = self.sudo()
        partner = dialog.partner_id or dialog.sender_id._chatbot_ensure_partner()
        if partner and partner != dialog.partner_id:
            dialog.partner_id = partner
        return partner.with_env(self.env)

    def _chatbot_find_similar(self):
        """Look for contacts that may be the customer's (when the chat starts, or on demand)."""
        for dialog in self:
            partner = dialog.partner_id
            dialog.similar_partner_ids = partner._chatbot_similar_partners() if partner else False

    def action_chatbot_find_similar(self):
        """*Find similar contacts* on the dialog: the search again (after the contact was completed)."""
        self._chatbot_check_operator_rights()
        self.sudo()._chatbot_find_similar()
        return True

    def action_chatbot_merge_similar(self):
        """*Merge*: Odoo's contact merge with the dialog's contact as the one that remains; senders, dialogs
        and conversations of the others follow it (the merge moves every link to a contact)."""
        self.ensure_one()
        dialog = self.sudo()
        similar = dialog.similar_partner_ids - dialog.partner_id
        if not dialog.partner_id or not similar:
            raise UserError(self.env._("No similar contact to merge with."))
        # as the user: Odoo's merge wizard and its rights (contact managers; three contacts at most, but for
        # administrators)
        wizard = self.env["base.partner.merge.automatic.wizard"].create(
            {
                "state": "selection",
                "partner_ids": [(6, 0, (dialog.partner_id | similar).ids)],
                "dst_partner_id": dialog.partner_id.id,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Merge contacts"),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_open_contact(self):
        """Chat action *Open the contact*: the customer's contact, made from their messenger profile when the
        dialog has none yet."""
        self.ensure_one()
        partner = self._chatbot_contact()
        if not partner:
            raise UserError(
                self.env._(
                    "%(name)s has no contact, and %(bot)s does not create contacts (its Settings).",
                    name=self._chatbot_customer_name(),
                    bot=self.sudo().bot_id.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": partner.id,
            "views": [[False, "form"]],
            "target": "current",
        }

    def action_open_conversation(self):
        """The dialog's conversation in Discuss."""
        return self._chatbot_action_open_conversation()

    # ------------------------------------------------------------------------------------------
    # The operator's side: Discuss, or the operator's messenger
    # ------------------------------------------------------------------------------------------

    def _chatbot_customer_name(self):
        return self.partner_id.name or self.sender_id.name or self.code

    def _chatbot_conversation_name(self):
        return f"{self.code} · {self._chatbot_customer_name()}"

    def _chatbot_open_conversation(self, operator, previous=None):
        """The dialog's Discuss conversation with `operator`: created with the dialog's history on first
        use; on a transfer the previous operator leaves it and the new one joins."""
        operator_partner = operator.user_id.partner_id
        channel = self.discuss_channel_id.sudo()
        if not channel:
            # sudo: the processing user creates the conversation; in the operator's name, as Discuss makes
            # its creator a member
            channel = (
                self.env["discuss.channel"]
                .with_user(operator.user_id)
                .sudo()
                .create(self._chatbot_conversation_values(operator))
                .with_user(self.env.user)
                .sudo()
            )
            self.discuss_channel_id = channel
            if self.partner_id:
                channel._add_members(partners=self.partner_id, post_joined_message=False)
                # Creatio: a new chat looks for contacts that may be the same person
                self._chatbot_find_similar()
            # the whole history: a transferred dialog's parent may never have had a conversation
            for message in self._chatbot_history():
                self._chatbot_post_in_conversation(message)
        else:
            previous = previous or self.env["chatbot.operator"]
            if previous.user_id and previous.user_id.partner_id != operator_partner:
                self._chatbot_leave_conversation(previous)
            channel._add_members(partners=operator_partner)
            channel.message_post(
                body=self.env._("%(operator)s takes the dialog.", operator=operator.name),
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
            # what the customer wrote while the dialog (or its parent) waited in a queue
            for message in self._chatbot_history().filtered(lambda m: not m.mail_message_id):
                self._chatbot_post_in_conversation(message)
        self._chatbot_conversation_opened(channel, operator)
        return channel

    def _chatbot_conversation_values(self, operator):
        """The values of a new conversation of the dialog with `operator` (chatbot_livechat: a live chat
        session)."""
        return {
            "name": self._chatbot_conversation_name(),
            "channel_type": "group",
            "chatbot_dialog_id": self.id,
        }

    def _chatbot_conversation_opened(self, channel, operator):
        """Hook: `operator` now has the conversation `channel` (new, or theirs after a transfer)."""

    def _chatbot_post_in_conversation(self, message):
        """Show a dialog message in the Discuss conversation, as written by its author."""
        self.ensure_one()
        channel = self.discuss_channel_id.sudo()
        if not channel or message.mail_message_id:
            return
        body = escape(message.body or "").replace("\n", Markup("<br/>"))
        if message.direction == "in":
            author = self.partner_id
            if not author:
                body = Markup("<b>%s</b>: %s") % (self.sender_id.name, body)
        elif message.author_kind == "operator" and message.author_user_id:
            author = message.author_user_id.partner_id
        else:
            # the bot's messages and its notices are the bot's, as the customer sees them
            author = self.bot_id._chatbot_partner()
        attachments = message.attachment_ids.sudo()
        mail_message = channel.with_context(chatbot_no_relay=True).message_post(
            body=body,
            author_id=author.id or False,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=attachments.ids,
        )
        message.mail_message_id = mail_message

    def _chatbot_forward(self, message):
        """A customer's message in an active dialog reaches whoever serves it."""
        self.ensure_one()
        if self.served_by_group:
            self._chatbot_relay_to_group(message)
        elif self.operator_id.user_id:
            self._chatbot_post_in_conversation(message)
        elif self.operator_id.sender_id:
            text = f"{self._chatbot_customer_name()}: {message.body or ''}".strip()
            self._chatbot_send_to_operator(text, attachments=message.attachment_ids)

    def _chatbot_show_in_conversation(self, message):
        if self.discuss_channel_id:
            self._chatbot_post_in_conversation(message)

    def _chatbot_on_operator_message(
        self, text, operator=None, attachments=None, delivered=False, from_conversation=False
    ):
        if not from_conversation:
            # a messenger operator (private chat, operators' group) has Odoo's canned responses too; the
            # web client's composer expands them itself
            text = self._chatbot_expand_canned_response(text)
        return super()._chatbot_on_operator_message(
            text,
            operator=operator,
            attachments=attachments,
            delivered=delivered,
            from_conversation=from_conversation,
        )

    def _chatbot_expand_canned_response(self, text):
        """`text` when it is a canned response's shortcut (":thanks", as typed in Discuss): its text."""
        shortcut = (text or "").strip()
        if not shortcut.startswith(":") or " " in shortcut or len(shortcut) < 2:
            return text
        # sudo: an approved messenger operator has no Odoo user; the company's canned responses serve them
        canned = self.env["mail.canned.response"].sudo().search([("source", "=ilike", shortcut[1:])], limit=1)
        return canned.substitution or text

    def _chatbot_for_operator(self, operator=None):
        """The dialog in the language of its (or `operator`'s) messenger operator, to write them a message;
        an Odoo operator reads notes in the conversation, written in the context's language."""
        sender = (operator or self.operator_id).sender_id
        lang = sender._chatbot_reader_lang() if sender else None
        return self.with_context(lang=lang) if lang else self

    def _chatbot_send_to_operator(self, text, attachments=None):
        """A message to the messenger operator of the dialog, in their private chat with the bot."""
        self.ensure_one()
        sender = self.operator_id.sender_id
        return sender._chatbot_notify(text, attachments) if sender else self.env["chatbot.outbound"]

    def _chatbot_brief_messenger_operator(self, operator):
        """Tell a messenger operator who their new customer is, with what the customer wrote so far."""
        env = self._chatbot_for_operator(operator).env  # their language
        lines = [
            env._("New customer: %(name)s (%(code)s).", name=self._chatbot_customer_name(), code=self.code)
        ]
        lines += [
            f"> {m.body}"
            for m in self._chatbot_history().filtered(lambda m: m.direction == "in" and m.body)[-10:]
        ]
        if self.transfer_note:
            lines.append(env._("Note from the previous operator: %(note)s", note=self.transfer_note))
        lines.append(
            env._("Answer here; /end closes the dialog, /transfer hands it on, /help lists the commands.")
        )
        self._chatbot_send_to_operator("\n".join(lines))

    # ------------------------------------------------------------------------------------------
    # Timeouts and the queue (cron)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_operator_queue(self, batch_size=500, time_budget=None):
        """Close dialogs that waited longer than their bot's max waiting time (timeout text) and active
        dialogs without activity for the dialog end time (completion text), in bounded batches locked with
        SKIP LOCKED (several workers, a late run: each dialog once); then give waiting dialogs to free
        operators and tell the first waiting customers their new position."""
        time_budget = cron_time_budget() if time_budget is None else time_budget
        started = time.monotonic()
        done = 0
        closed = self._chatbot_hours_checkpoint()
        for kind in ("timeout", "inactivity", "idle", "silent", "offer", "late"):
            while time.monotonic() - started < time_budget:
                dialogs = self._chatbot_due_timeouts(kind, batch_size, closed=closed)
                if not dialogs:
                    break
                if kind == "silent":
                    for dialog in dialogs:
                        dialog._chatbot_hand_back_silent()
                elif kind == "offer":
                    dialogs._chatbot_withdraw_offer()
                elif kind == "late":
                    dialogs.first_reply_late = True
                elif kind == "idle":
                    dialogs._chatbot_end("idle", "text_idle")
                else:
                    dialogs._chatbot_end(kind, "text_timeout" if kind == "timeout" else "text_completed")
                done += len(dialogs)
                if auto_commit():
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        bots = self.env["chatbot.bot"].sudo().search([("bot_type", "=", "operator")])
        bots._chatbot_dispatch_queue()
        bots._chatbot_tell_positions()
        left = any(
            self._chatbot_due_timeouts(kind, 1, lock=False, closed=closed)
            for kind in ("timeout", "inactivity", "idle")
        )
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        if left:
            self.env.ref("chatbot_operator.ir_cron_chatbot_operator_queue")._trigger()
        return done

    @api.model
    def _chatbot_hours_checkpoint(self):
        """Working hours (operator bots with a schedule): the ids of the bots closed now, whose waiting
        customers do not time out; for those open, the max waiting time of a customer who waited through
        closed hours counts from the opening."""
        closed = []
        now = fields.Datetime.now()
        bots = (
            self.env["chatbot.bot"]
            .sudo()
            .search([("bot_type", "=", "operator"), ("resource_calendar_id", "!=", False)])
        )
        for bot in bots:
            opened = bot._chatbot_open_since(now)
            if opened is None:
                closed.append(bot.id)
                continue
            self.env.flush_all()
            self.env.cr.execute(
                """UPDATE chatbot_dialog SET requeue_date = %s
                    WHERE operator_bot_id = %s AND state = 'waiting'
                      AND COALESCE(GREATEST(queue_date, requeue_date), queue_date) < %s""",
                [opened, bot.id, opened],
            )
        return closed

    @api.model
    def _chatbot_due_timeouts(self, kind, limit, lock=True, closed=()):
        self.env.flush_all()
        if kind == "timeout":
            condition = """d.state = 'waiting' AND b.max_waiting_time > 0
                           AND COALESCE(GREATEST(d.queue_date, d.requeue_date), d.queue_date)
                               < %(now)s - make_interval(mins => b.max_waiting_time)"""
        elif kind == "offer":
            condition = """d.state = 'waiting' AND d.offer_operator_id IS NOT NULL
                           AND d.offer_date
                               < %(now)s - make_interval(secs => COALESCE(ob.accept_timeout, 30))"""
        elif kind == "late":
            condition = """d.state = 'active' AND d.operator_id IS NOT NULL AND d.first_reply_date IS NULL
                           AND d.first_reply_late IS NOT TRUE AND ob.first_reply_target > 0
                           AND d.assign_date < %(now)s - make_interval(mins => ob.first_reply_target)"""
        elif kind == "idle":
            # seed 002: a dialog left with the bot (a flow, no operator) closes after its bot's idle time
            condition = """d.state = 'bot' AND b.idle_end_time > 0
                           AND d.last_activity_date < %(now)s - make_interval(mins => b.idle_end_time)"""
        elif kind == "silent":
            # the operator bot's setting; answered means an operator's message after the assignment
            condition = """d.state = 'active' AND d.operator_id IS NOT NULL AND ob.silent_operator_time > 0
                           AND d.served_by_group IS NOT TRUE
                           AND d.assign_date < %(now)s - make_interval(mins => ob.silent_operator_time)
                           AND (d.last_operator_date IS NULL OR d.last_operator_date < d.assign_date)"""
        else:
            condition = """d.state = 'active' AND b.dialog_end_time > 0
                           AND d.last_activity_date < %(now)s - make_interval(mins => b.dialog_end_time)"""
        self.env.cr.execute(
            f"""
            SELECT d.id FROM chatbot_dialog d JOIN chatbot_bot b ON b.id = d.bot_id
              JOIN chatbot_bot ob ON ob.id = COALESCE(d.operator_bot_id, d.bot_id)
             WHERE {condition} AND ob.id != ALL(%(closed)s)
             ORDER BY d.id
             LIMIT %(limit)s
             {"FOR UPDATE OF d SKIP LOCKED" if lock else ""}
            """,  # noqa: S608 - constant fragments only
            {"now": fields.Datetime.now(), "limit": limit, "closed": list(closed)},
        )
        return self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
