from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from odoo.addons.chatbot_base.models.chatbot_bot import ADMIN_GROUP
from odoo.addons.chatbot_base.tools.i18n import default_variants, unless_edited

_lt = LazyTranslate(__name__)

# The seed's default texts (§1.1.6), translated in i18n/*.po. A bot stores them in English and in each
# language installed when it is created; a text nobody edited reaches each customer in their language
# (`_chatbot_text`), also in a language installed later.
DEFAULT_TEXTS = {
    "text_not_found": _lt("Press /start to talk."),
    "text_connected": _lt("connected to chat. Please start messaging!"),
    "text_no_operator": _lt("Sorry, no operator available"),
    "text_how_to_end": _lt("If you would like to end your consultation Press: /end"),
    "text_moderation": _lt("Please wait for approval you as consultant"),
    "text_approved": _lt("You Approved"),
    "text_rejected": _lt("You Reject"),
    "text_completed": _lt("Consultation completed"),
    "text_timeout": _lt("Thank you for contacting us. We will contact you as soon as possible."),
    "text_queue": _lt("All operators are busy. You are number {position} in the queue."),
    "text_optout": _lt("You will get no more broadcasts from us."),
    "text_transfer": _lt("We are passing you to another consultant. Please wait a moment."),
    "text_off_hours": _lt("Our team is away now and back {opening}. You keep your place in the queue."),
    "text_rating": _lt("How was your consultation? Please rate it."),
    "text_rating_thanks": _lt(
        "Thank you for your rating! If you like, write a comment in your next message."
    ),
    "text_rating_comment": _lt("Thank you, we passed your comment on."),
}


def _default_text(key):
    def default(self):
        return DEFAULT_TEXTS[key]._translate("en_US")

    return default


def _text_field(string, key, help_text=None):
    """One of the bot's texts: translatable, for administrators, with the seed's default wording."""
    return fields.Text(string, translate=True, groups=ADMIN_GROUP, default=_default_text(key), help=help_text)


class ChatbotBot(models.Model):
    """Settings of consultation bots (seed §1.1.6) and joining them as an operator (§1.1.2)."""

    _inherit = "chatbot.bot"

    # --- the nine texts of the seed, and the queue's -------------------------------------------
    text_not_found = _text_field(
        "Message not found",
        "text_not_found",
        "Sent when the bot waits for the start message and the customer writes something else.",
    )
    text_connected = _text_field(
        "Connection with an operator",
        "text_connected",
        "Sent after the operator's name when an operator takes the dialog (see \"Send greeting "
        'automatically").',
    )
    text_no_operator = _text_field(
        "No operator available",
        "text_no_operator",
        "Sent when no operator has joined the bot or none is Active; the customer then waits until the "
        "max waiting time.",
    )
    text_how_to_end = _text_field(
        "How to end the consultation",
        "text_how_to_end",
        "Sent when an operator connects.",
    )
    text_moderation = _text_field(
        "Moderation",
        "text_moderation",
        "Sent to a messenger user who asks to become an operator (/operator), until an administrator "
        "approves or rejects them.",
    )
    text_approved = _text_field("Approved", "text_approved")
    text_rejected = _text_field("Rejected", "text_rejected")
    text_completed = _text_field(
        "Consultation completed",
        "text_completed",
        "Sent when the dialog is closed: by /end, by the operator, or after the dialog end time.",
    )
    text_timeout = _text_field(
        "After the max waiting time",
        "text_timeout",
        "Sent to a customer who waited for an operator longer than the max waiting time; the dialog "
        "then closes.",
    )
    text_queue = _text_field(
        "Position in the queue",
        "text_queue",
        "Sent when every operator is busy, and again when the position changes. {position} is replaced "
        "by the customer's position.",
    )
    text_optout = _text_field(
        "No more broadcasts",
        "text_optout",
        "Sent to a customer who sends /stop or presses a broadcast's stop button.",
    )
    text_transfer = _text_field(
        "Transfer",
        "text_transfer",
        "Sent when an operator hands the dialog to another operator or another queue.",
    )
    text_off_hours = _text_field(
        "Outside working hours",
        "text_off_hours",
        "Sent to a customer who asks for an operator outside the working hours; {opening} is replaced by "
        "when the team is back.",
    )
    text_rating = _text_field(
        "Rating question",
        "text_rating",
        'Sent with the Good, Okay and Bad buttons when a consultation with an operator ends (see "Ask for a '
        'rating").',
    )
    text_rating_thanks = _text_field(
        "After a rating",
        "text_rating_thanks",
        "Sent when the customer rated the consultation; their next message within ten minutes is the "
        "rating's comment.",
    )
    text_rating_comment = _text_field("After a rating's comment", "text_rating_comment")
    # --- behaviour ----------------------------------------------------------------------------------
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        "Working hours",
        groups=ADMIN_GROUP,
        help="When the operators work (Odoo's working schedules, their time zone and public holidays). "
        'Outside them customers get the "Outside working hours" text and wait in the queue until the '
        "opening, and the max waiting time does not count the closed hours. Empty: always open.",
    )
    rating_enabled = fields.Boolean(
        "Ask for a rating",
        groups=ADMIN_GROUP,
        help="When a consultation with an operator ends, the customer is asked to rate it (Good, Okay, Bad, "
        "on Odoo's rating scale) and may add a comment; the rating goes to the dialog, its operator and the "
        "reports.",
    )
    odoo_operators_only = fields.Boolean(
        "Odoo operators only",
        groups=ADMIN_GROUP,
        help="Only Odoo users answer; requests to become an operator from a messenger are refused.",
    )
    max_parallel_chats = fields.Integer(
        "Max parallel chats",
        default=5,
        groups=ADMIN_GROUP,
        help="How many dialogs an Odoo operator handles at once; the same for every operator. A messenger "
        "operator handles one.",
    )
    max_waiting_time = fields.Integer(
        "Max waiting time",
        default=15,
        groups=ADMIN_GROUP,
        help='Minutes a customer waits for an operator before getting the "after the max waiting time" '
        "message (the dialog then closes). 0: wait without limit.",
    )
    dialog_end_time = fields.Integer(
        "Dialog end time",
        default=60,
        groups=ADMIN_GROUP,
        help="Minutes without a message after which a dialog with an operator closes. 0: never.",
    )
    idle_end_time = fields.Integer(
        "Close a dialog left with the bot after",
        default=60,
        groups=ADMIN_GROUP,
        help="Minutes without a message after which a dialog that stays with the bot (a flow, or waiting for "
        "the start message; no operator) closes, as in Creatio. 0: never.",
    )
    text_idle = fields.Text(
        "When a dialog left with the bot closes",
        translate=True,
        groups=ADMIN_GROUP,
        help="Sent when a dialog that stayed with the bot closes after the idle time. Empty: nothing is "
        "sent.",
    )
    first_reply_target = fields.Integer(
        "First-reply target",
        default=0,
        groups=ADMIN_GROUP,
        help="Minutes within which an operator should answer a dialog they took; later answers (and dialogs "
        "still unanswered past it) are highlighted in the lists and counted in the reports. 0: no target.",
    )
    accept_mode = fields.Boolean(
        "Operators accept new dialogs",
        default=False,
        groups=ADMIN_GROUP,
        help="A new dialog is offered to the routed operator (a notification with a sound in Odoo, Accept "
        "and Decline buttons in a messenger) and listed under New chats until they accept it; not accepted "
        "in time, it is offered to the next operator, the customer keeping their place. Off: dialogs are "
        "given at once.",
    )
    accept_timeout = fields.Integer(
        "Time to accept",
        default=30,
        groups=ADMIN_GROUP,
        help="Seconds an operator has to accept a dialog offered to them.",
    )
    silent_operator_time = fields.Integer(
        "Reassign a silent operator after",
        default=0,
        groups=ADMIN_GROUP,
        help="Minutes an operator may leave a new dialog unanswered: then it goes back to the head of the "
        "queue and the next operator gets it; the first one is told. 0: never.",
    )
    wait_start_message = fields.Boolean(
        "Wait for the start message",
        default=True,
        groups=ADMIN_GROUP,
        help='Wait for /start (Telegram\'s "Start" button) before talking; otherwise the first message of '
        "the customer starts the conversation.",
    )
    send_greeting = fields.Boolean(
        "Send greeting automatically",
        default=True,
        groups=ADMIN_GROUP,
        help='Send "connection with an operator" when an operator takes the dialog.',
    )
    # --- the current user as an operator ---------------------------------------------------------
    is_joined = fields.Boolean("Joined", compute="_compute_is_joined")
    partner_id = fields.Many2one(
        "res.partner",
        "Writes as",
        readonly=True,
        ondelete="set null",
        help="The contact the bot writes as in its conversations with operators and in website live chats "
        "(created on first use, named after the bot).",
    )

    _sql_constraints = [
        (
            "max_parallel_chats_positive",
            "CHECK(max_parallel_chats > 0)",
            "Max parallel chats must be at least 1.",
        ),
        (
            "max_waiting_time_positive",
            "CHECK(max_waiting_time >= 0)",
            "The max waiting time cannot be negative.",
        ),
        (
            "dialog_end_time_positive",
            "CHECK(dialog_end_time >= 0)",
            "The dialog end time cannot be negative.",
        ),
    ]

    @api.depends_context("uid")
    def _chatbot_dialog_figures(self):
        # an operator bot serves the dialogs client bots hand over to it: they are its dialogs too, and their
        # senders (a client bot's own) its senders
        self.env["chatbot.dialog"].flush_model(["bot_id", "operator_bot_id", "state", "sender_id"])
        self.env.cr.execute(
            """SELECT b, count(*), count(*) FILTER (WHERE state != 'closed'),
                      count(DISTINCT sender_id) FILTER (WHERE served)
                 FROM (SELECT bot_id AS b, state, sender_id, false AS served
                         FROM chatbot_dialog WHERE bot_id = ANY(%(ids)s)
                       UNION ALL
                       SELECT operator_bot_id, state, sender_id, true
                         FROM chatbot_dialog
                        WHERE operator_bot_id = ANY(%(ids)s) AND operator_bot_id != bot_id
                      ) d
                GROUP BY b""",
            {"ids": self.ids},
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _chatbot_served_domain(self, model):
        """The records of `model` (dialogs, senders) an operator bot served."""
        self.ensure_one()
        if model == "chatbot.dialog":
            return ["|", ("bot_id", "=", self.id), ("operator_bot_id", "=", self.id)]
        return ["|", ("bot_id", "=", self.id), ("dialog_ids.operator_bot_id", "=", self.id)]

    def _action_chatbot_list(self, model, name):
        action = super()._action_chatbot_list(model, name)
        if self.bot_type == "operator" and model in ("chatbot.dialog", "chatbot.sender"):
            action["domain"] = self._chatbot_served_domain(model)
            action["context"] = {"default_bot_id": self.id}
        return action

    def _chatbot_partner(self):
        """The contact the bot writes as in a conversation (Discuss, a website live chat)."""
        self.ensure_one()
        bot = self.sudo()  # sudo: the bot's own contact, created once
        if not bot.partner_id:
            bot.partner_id = self.env["res.partner"].sudo().create({"name": bot.name, "company_id": False})
        return bot.partner_id

    def _compute_is_joined(self):
        # sudo: the user learns only whether they themselves joined
        joined = set(
            self.env["chatbot.operator"]
            .sudo()
            .search([("bot_id", "in", self.ids), ("user_id", "=", self.env.uid)])
            .bot_id.ids
        )
        for bot in self:
            bot.is_joined = bot.id in joined

    def action_chatbot_broadcast(self):
        """A new broadcast to the bot's senders."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Broadcast"),
            "res_model": "chatbot.broadcast",
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {"default_bot_id": self.id},
        }

    def _chatbot_settings(self):
        """The settings and texts, readable by code running for any user (the fields are admin-only)."""
        self.ensure_one()
        return self.sudo()

    @api.model_create_multi
    def create(self, vals_list):
        bots = super().create(vals_list)
        bots._chatbot_translate_default_texts()
        return bots

    def _chatbot_translate_default_texts(self, langs=None):
        """Give each text nobody edited in a language its default in that language (each installed one, or
        `langs`), so that an administrator working in Ukrainian sees and edits the Ukrainian text. Runs when
        a bot is created and when a language is installed; a text edited in a language stays."""
        langs = langs or [code for code, _name in self.env["res.lang"].get_installed() if code != "en_US"]
        for key, source in DEFAULT_TEXTS.items():
            defaults = default_variants(self.env, source)
            for bot in self.sudo():
                translations = {
                    lang: source._translate(lang)
                    for lang in langs
                    if lang != "en_US" and bot.with_context(lang=lang)[key] in defaults
                }
                if translations:
                    bot.update_field_translations(key, translations)

    def _chatbot_text(self, key, lang=None, **values):
        """A text of the bot in `lang` (else the context's language), with its {placeholders} filled. A
        default text nobody edited is the default in that language, even when the bot was created before
        the language was installed."""
        bot = self.with_context(lang=lang) if lang else self
        text = bot._chatbot_settings()[key] or ""
        if key in DEFAULT_TEXTS:
            text = unless_edited(bot.env, DEFAULT_TEXTS[key], text)
        for name, value in values.items():
            text = text.replace("{%s}" % name, str(value))
        return text

    def action_join(self):
        """Join the consultation bot as an operator (seed §1.1.2)."""
        for bot in self:
            if bot.bot_type != "operator":
                raise UserError(
                    self.env._("Only an Operator Chat bot has operators: %(bot)s is not one.", bot=bot.name)
                )
            # sudo: any user of the Bots app may make themselves an operator, not someone else
            Operator = self.env["chatbot.operator"].sudo().with_context(active_test=False)
            operator = Operator.search([("bot_id", "=", bot.id), ("user_id", "=", self.env.uid)], limit=1)
            if operator:
                operator.active = True
            else:
                operator = Operator.create(
                    {
                        "bot_id": bot.id,
                        "user_id": self.env.uid,
                        "status": self.env["chatbot.operator"]._chatbot_user_status(),
                    }
                )
            bot._chatbot_dispatch_queue()
        # the web client reloads: its systray gets the operator's status switch
        return {"type": "ir.actions.client", "tag": "reload"}

    def action_leave(self):
        """Stop being an operator of the bot. The dialogs the user has open stay theirs until closed or
        transferred."""
        # sudo: the user removes only their own operator record
        operators = (
            self.env["chatbot.operator"]
            .sudo()
            .search([("bot_id", "in", self.ids), ("user_id", "=", self.env.uid)])
        )
        operators.active = False
        return {"type": "ir.actions.client", "tag": "reload"}

    # ------------------------------------------------------------------------------------------
    # Routing
    # ------------------------------------------------------------------------------------------

    def _chatbot_pick_operator(self, partner=None, exclude=None):
        """Lock and return the operator who takes a new dialog of `partner`, or an empty recordset.

        The Active operator with the fewest active dialogs below the limit; the operators whose "User
        Salesperson" is the partner's salesperson first; ties to the one idle longest. Operators who serve
        only their own clients are considered only for those. One indexed query, whatever the number of
        dialogs; `FOR UPDATE SKIP LOCKED`: two workers routing at the same moment never both fill the last
        place of one operator (the second skips the row the first holds; under Odoo's REPEATABLE READ a row
        changed by a transaction that committed meanwhile raises a serialization failure, and the work is
        retried)."""
        self.ensure_one()
        settings = self._chatbot_settings()
        salesperson = (partner.user_id.id if partner else None) or None
        self.env.flush_all()
        self.env.cr.execute(
            f"""
            SELECT o.id FROM chatbot_operator o
             WHERE o.bot_id = %(bot)s AND o.active AND o.status = 'active'
               AND COALESCE(o.active_dialog_count, 0) < CASE WHEN o.user_id IS NULL THEN 1 ELSE %(max)s END
               AND (o.user_id IS NOT NULL OR NOT %(odoo_only)s)
               AND (o.only_my_clients IS NOT TRUE OR o.salesperson_id = %(salesperson)s)
               AND o.id != ALL(%(exclude)s)
               {self._chatbot_operator_available_sql()}
             ORDER BY (o.salesperson_id = %(salesperson)s) IS TRUE DESC, COALESCE(o.active_dialog_count, 0),
                      o.assignment_seq NULLS FIRST, o.id
             LIMIT 1
             FOR UPDATE SKIP LOCKED
            """,  # noqa: S608 - a constant fragment from _chatbot_operator_available_sql
            {
                "bot": self.id,
                "max": settings.max_parallel_chats,
                "odoo_only": settings.odoo_operators_only,
                "salesperson": salesperson,
                "exclude": list(exclude.ids if exclude else []),
            },
        )
        row = self.env.cr.fetchone()
        return self.env["chatbot.operator"].browse(row[0] if row else [])

    def _chatbot_operator_available_sql(self):
        """An SQL condition on the operator `o` that routing adds: other addons narrow who may take dialogs
        now (chatbot_livechat: Odoo users must be online). A constant fragment, no parameters."""
        return ""

    def _chatbot_has_available_operators(self):
        """Whether an operator could take dialogs at all (joined, Active): when none can, customers get
        the "no operator available" text instead of a place in the queue."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            f"""
            SELECT 1 FROM chatbot_operator o
             WHERE o.bot_id = %(bot)s AND o.active AND o.status = 'active'
               AND (o.user_id IS NOT NULL OR NOT %(odoo_only)s)
               {self._chatbot_operator_available_sql()}
             LIMIT 1
            """,  # noqa: S608 - a constant fragment from _chatbot_operator_available_sql
            {"bot": self.id, "odoo_only": self._chatbot_settings().odoo_operators_only},
        )
        return bool(self.env.cr.fetchone())

    def _chatbot_dispatch_queue(self, limit=20):
        """Give waiting dialogs to operators who have room, oldest first; at most `limit` per call (the
        queue cron goes on). Waiting dialogs are locked with SKIP LOCKED: two dispatchers never take the
        same one."""
        assigned = self.env["chatbot.dialog"]
        for bot in self.filtered(lambda b: b.bot_type == "operator" and b._chatbot_is_open()):
            self.env.flush_all()
            self.env.cr.execute(
                """
                SELECT id FROM chatbot_dialog
                 WHERE operator_bot_id = %s AND state = 'waiting'
                 ORDER BY queue_date, id
                 LIMIT %s
                 FOR UPDATE SKIP LOCKED
                """,
                [bot.id, limit],
            )
            waiting = self.env["chatbot.dialog"].sudo().browse([row[0] for row in self.env.cr.fetchall()])
            for dialog in waiting:
                if dialog.offer_operator_id:
                    continue  # offered to someone now: it waits for their answer or the time to accept
                excluded = dialog.silent_operator_id | dialog.declined_operator_ids
                operator = bot._chatbot_pick_operator(dialog.partner_id, exclude=excluded)
                if not operator:
                    if not dialog.partner_id.user_id and not excluded:
                        break  # nobody has room for anyone: the rest of the queue waits too
                    continue  # a client of a busy salesperson; others may still go to someone
                dialog._chatbot_give(operator)
                assigned |= dialog
        if assigned:
            self.env.ref("chatbot_operator.ir_cron_chatbot_operator_queue")._trigger()
        return assigned

    def _chatbot_tell_positions(self, first=50):
        """Tell the first `first` waiting customers of each bot their new position when it went down since
        they were last told, or when they were never told one while operators are busy: a customer whose
        offer was declined or ran out (accept mode) was offered a dialog, not a place, on arrival; one who got
        "no operator available" still waits once operators are back but full (one window query per bot; the
        rest of the queue hears it when they get there)."""
        for bot in self.filtered(lambda b: b._chatbot_is_open()):  # closed: they got the off-hours text
            self.env.flush_all()
            self.env.cr.execute(
                """
                SELECT id, position, queue_position FROM (
                    SELECT id, queue_position, offer_operator_id,
                           row_number() OVER (ORDER BY queue_date, id) AS position
                      FROM chatbot_dialog
                     WHERE operator_bot_id = %s AND state = 'waiting'
                     ORDER BY queue_date, id
                     LIMIT %s) q
                 WHERE queue_position > position
                    OR (COALESCE(queue_position, 0) = 0 AND offer_operator_id IS NULL)
                """,
                [bot.id, first],
            )
            rows = self.env.cr.fetchall()
            # never told: only while someone could serve them ("no operator available" is not a place)
            busy = any(not told for _id, _position, told in rows) and bot._chatbot_has_available_operators()
            for dialog_id, position, told in rows:
                if told or busy:
                    self.env["chatbot.dialog"].sudo().browse(dialog_id)._chatbot_tell_position(position)

    def _chatbot_work_intervals(self, start, days=14):
        """The working intervals of the bot's schedule from `start` (naive UTC) for `days`, as aware
        datetimes; None without a schedule (always open)."""
        self.ensure_one()
        calendar = self.sudo().resource_calendar_id
        if not calendar:
            return None
        start = pytz.utc.localize(start)
        intervals = calendar._work_intervals_batch(start, start + timedelta(days=days))[False]
        return [(begin, end) for begin, end, _records in intervals]

    def _chatbot_open_since(self, at=None):
        """The start (naive UTC) of the working interval `at` (now) falls in; None when the operators are
        off; `at` itself without a schedule (always open)."""
        self.ensure_one()
        at = at or fields.Datetime.now()
        intervals = self._chatbot_work_intervals(at - timedelta(days=1), days=2)
        if intervals is None:
            return at
        moment = pytz.utc.localize(at)
        begin = next((begin for begin, end in intervals if begin <= moment < end), None)
        return begin.astimezone(pytz.utc).replace(tzinfo=None) if begin else None

    def _chatbot_is_open(self, at=None):
        """Whether the bot's operators work now (or at `at`, naive UTC): always without a schedule."""
        return self._chatbot_open_since(at) is not None

    def _chatbot_opening(self, at=None):
        """When the bot's operators are back (naive UTC): the start of the next working interval, or None."""
        self.ensure_one()
        at = at or fields.Datetime.now()
        moment = pytz.utc.localize(at)
        for begin, _end in self._chatbot_work_intervals(at) or []:
            if begin > moment:
                return begin.astimezone(pytz.utc).replace(tzinfo=None)
        return None

    def _chatbot_operator_bot(self):
        """The consultation bot whose operators serve this bot's customers (chatbot_client links client
        bots to theirs)."""
        self.ensure_one()
        return self if self.bot_type == "operator" else self.browse()
