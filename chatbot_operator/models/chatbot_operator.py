from odoo import api, fields, models

from .chatbot_dialog import OFFER_PREFIX

STATUSES = [("active", "Active"), ("inactive", "Inactive")]


class ChatbotOperator(models.Model):
    """Statuses, "serve only my clients" and the load of an operator, read by the routing query."""

    _inherit = "chatbot.operator"

    status = fields.Selection(
        STATUSES,
        default="active",
        required=True,
        help="Only Active operators get new dialogs. An Odoo operator is Inactive at their first login and "
        "when their last session logs out, and gets their status back at the next login; they choose it in "
        "the headset menu of the top bar.",
    )
    status_before_logout = fields.Selection(STATUSES, readonly=True, copy=False)
    only_my_clients = fields.Boolean(
        "Connect only to my clients",
        default=False,
        help="The operator sees and gets only dialogs of partners whose salesperson is the User Salesperson.",
    )
    salesperson_id = fields.Many2one(
        "res.users",
        "User Salesperson",
        compute="_compute_salesperson_id",
        store=True,
        readonly=False,
        help="Dialogs of partners whose salesperson is this user go to this operator first.",
    )
    active_dialog_count = fields.Integer(
        "Active dialogs",
        readonly=True,
        default=0,
        help="Dialogs this operator handles now (kept by the routing).",
    )
    last_assignment_date = fields.Datetime("Last dialog taken", readonly=True)
    assignment_seq = fields.Integer(
        readonly=True,
        copy=False,
        help="Order of the last dialog taken: ties go to the operator idle longest.",
    )
    dialog_ids = fields.One2many("chatbot.dialog", "operator_id", "Dialogs")
    availability = fields.Selection(
        [("available", "Active"), ("inactive", "Inactive"), ("full", "Chat limit reached")],
        compute="_compute_availability",
        help="Active: gets dialogs. Inactive: gets none. Chat limit reached: set by itself while the "
        "operator has as many active dialogs as the bot's max parallel chats (one for a messenger operator).",
    )

    @api.depends("status", "active_dialog_count", "bot_id.max_parallel_chats", "user_id")
    def _compute_availability(self):
        for operator in self:
            if operator.status != "active":
                operator.availability = "inactive"
            elif operator.active_dialog_count >= operator._chatbot_chat_limit():
                operator.availability = "full"
            else:
                operator.availability = "available"

    def _chatbot_chat_limit(self):
        """How many dialogs the operator handles at once (the routing query's rule)."""
        self.ensure_one()
        # sudo: the bot's setting is for administrators to change; everyone may know the limit
        return self.bot_id.sudo().max_parallel_chats if self.user_id else 1

    def init(self):
        self.env.cr.execute("CREATE SEQUENCE IF NOT EXISTS chatbot_operator_assignment_seq")

    def _chatbot_mark_assigned(self):
        """This operator just took a dialog (a database sequence orders assignments within one second)."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE chatbot_operator
                  SET assignment_seq = nextval('chatbot_operator_assignment_seq'), last_assignment_date = %s
                WHERE id = %s""",
            [fields.Datetime.now(), self.id],
        )
        self.invalidate_recordset(["assignment_seq", "last_assignment_date"])

    @api.depends("user_id")
    def _compute_salesperson_id(self):
        for operator in self:
            if not operator.salesperson_id:
                operator.salesperson_id = operator.user_id

    @api.model
    def _chatbot_user_status(self, user=None):
        """The status the user has as an operator elsewhere (one status per person, set from the systray)."""
        user = user or self.env.user
        other = self.sudo().search([("user_id", "=", user.id)], limit=1, order="write_date desc")
        return other.status or "active"

    def write(self, vals):
        result = super().write(vals)
        if {"only_my_clients", "salesperson_id", "user_id", "active"} & vals.keys():
            # the record rules of dialogs read these settings; their cached domains must be recomputed
            self.env.registry.clear_cache()
        if vals.get("status") == "active" or vals.get("active"):
            self.bot_id._chatbot_dispatch_queue()
        return result

    def _chatbot_update_load(self):
        """Recount the active dialogs of these operators (one query; self-healing, never a drifting +1/-1).
        Callers hold the operators' rows (routing) or just changed their dialogs in this transaction."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE chatbot_operator o
               SET active_dialog_count = (SELECT count(*) FROM chatbot_dialog d
                                           WHERE d.operator_id = o.id AND d.state = 'active')
                                       -- accept mode: a dialog offered to the operator holds its place
                                       + (SELECT count(*) FROM chatbot_dialog d
                                           WHERE d.offer_operator_id = o.id AND d.state = 'waiting')
             WHERE o.id = ANY(%s)
            """,
            [self.ids],
        )
        self.invalidate_recordset(["active_dialog_count"])

    @api.model
    def chatbot_set_my_status(self, status):
        """The web client's systray: the current user's status for every bot they joined."""
        if status not in dict(STATUSES):
            raise ValueError(status)
        # sudo: a user sets only their own status
        operators = self.sudo().search([("user_id", "=", self.env.uid)])
        operators.write({"status": status, "status_before_logout": False})
        return self.chatbot_get_my_status()

    @api.model
    def chatbot_get_my_status(self):
        """For the systray: whether the user is an operator, and their status."""
        operators = self.sudo().search([("user_id", "=", self.env.uid)])
        labels = dict(self._fields["availability"]._description_selection(self.env))
        # what keeps the user from getting dialogs, if anything: their state as the routing sees it
        blocked = operators.filtered(lambda o: o.availability not in ("available", "inactive"))[:1]
        return {
            "is_operator": bool(operators),
            "status": operators[:1].status or "active",
            "availability": blocked.availability or False,
            "availability_label": labels.get(blocked.availability, ""),
            "bots": operators.bot_id.mapped("name"),
            "active_dialogs": sum(operators.mapped("active_dialog_count")),
        }

    @api.model
    def _chatbot_on_logout(self, user):
        """The user's last session ended: stop giving them dialogs, remember the status for their return."""
        operators = self.sudo().search([("user_id", "=", user.id), ("status", "=", "active")])
        operators.write({"status": "inactive", "status_before_logout": "active"})

    @api.model
    def _chatbot_on_login(self, user, first=False):
        """Back from a logout: the status the user had before it. At their first login an operator (made one
        by an administrator before they ever came) is Inactive until they choose Active in the headset menu,
        as seed 002 says: nobody gets dialogs before they are ready."""
        if first:
            self.sudo().search([("user_id", "=", user.id)]).write(
                {"status": "inactive", "status_before_logout": False}
            )
            return
        operators = self.sudo().search([("user_id", "=", user.id), ("status_before_logout", "!=", False)])
        for operator in operators:
            operator.write({"status": operator.status_before_logout, "status_before_logout": False})

    # ------------------------------------------------------------------------------------------
    # A messenger operator's private chat with the bot
    # ------------------------------------------------------------------------------------------

    def _chatbot_current_dialog(self):
        self.ensure_one()
        return self.env["chatbot.dialog"].search(
            # a dialog taken in the operators' group is answered there, not in the private chat
            [("operator_id", "=", self.id), ("state", "=", "active"), ("served_by_group", "=", False)],
            order="assign_date desc",
            limit=1,
        )

    def _chatbot_on_operator_event(self, event):
        """A messenger operator wrote to the bot: a command (/end, /next, /transfer, /help) or an answer for
        their current customer."""
        self.ensure_one()
        sender = self.sender_id
        dialog = self._chatbot_current_dialog()
        command = event.command
        if event.kind == "button" and event.button_data.startswith(OFFER_PREFIX):
            return self._chatbot_answer_offer(event.button_data)
        if event.kind == "edit":
            sender._chatbot_notify(self.env._("Edits do not reach the customer: send the corrected text."))
            return dialog
        if command in ("help", "start"):
            sender._chatbot_notify(self._chatbot_help_text())
            return dialog
        if command == "end":
            if not dialog:
                sender._chatbot_notify(
                    self.env._("You have no customer now. /next takes the next waiting one.")
                )
                return dialog
            dialog._chatbot_end("operator")  # the operator is told "The dialog with ... is closed."
            return dialog
        if command == "next":
            if dialog:
                sender._chatbot_notify(
                    self.env._(
                        "Finish the dialog with %(name)s first: /end, or /transfer.",
                        name=dialog._chatbot_customer_name(),
                    )
                )
                return dialog
            if self.status != "active":
                self.status = "active"  # asking for a customer means being available
            taken = self.bot_id._chatbot_dispatch_queue(limit=20).filtered(lambda d: d.operator_id == self)
            if not taken:
                sender._chatbot_notify(self.env._("No customer is waiting."))
            return taken
        if command == "transfer":
            if not dialog:
                sender._chatbot_notify(self.env._("You have no customer now."))
                return dialog
            if event.command_args.strip():
                # /transfer <name>: the one operator of the bot so named, as in a conversation or a topic
                sender._chatbot_notify(dialog.sudo()._chatbot_transfer_by_name(event.command_args))
                return dialog
            other = self.bot_id._chatbot_pick_operator(dialog.partner_id, exclude=self)
            if other:
                dialog.sudo().action_transfer(other)
                sender._chatbot_notify(
                    self.env._("Dialog %(code)s handed to %(name)s.", code=dialog.code, name=other.name)
                )
            else:
                # back in the queue it would come straight back to this operator, the only free one
                sender._chatbot_notify(
                    self.env._(
                        "No other operator is free: %(name)s stays with you.",
                        name=dialog._chatbot_customer_name(),
                    )
                )
            return dialog
        if command:
            sender._chatbot_notify(self._chatbot_help_text())
            return dialog
        if not dialog:
            sender._chatbot_notify(self.env._("You have no customer now. /next takes the next waiting one."))
            return dialog
        attachments = self.env["ir.attachment"].browse(dialog._chatbot_store_files(event.files))
        text = dialog._chatbot_event_text(event) or ""
        if text.strip() or attachments:
            dialog._chatbot_on_operator_message(text, operator=self, attachments=attachments)
        return dialog

    def _chatbot_answer_offer(self, data):
        """Accept or Decline pressed under an offered dialog (accept mode)."""
        _prefix, answer, dialog_id = data.split(":", 2) if data.count(":") >= 2 else ("", "", "0")
        dialog = (
            self.env["chatbot.dialog"].sudo().browse(int(dialog_id) if dialog_id.isdigit() else 0).exists()
        )
        if not dialog or dialog.offer_operator_id != self or dialog.state != "waiting":
            self.sender_id._chatbot_notify(self.env._("This customer is no longer waiting for you."))
            return dialog
        if answer == "accept":
            dialog.action_accept()
        else:
            dialog.action_decline()
            self.sender_id._chatbot_notify(self.env._("Declined: the customer goes to another operator."))
        return dialog

    def _chatbot_help_text(self):
        return self.env._(
            "You are an operator of %(bot)s. Write here to answer your customer.\n"
            "/next - take the next waiting customer\n"
            "/end - close the current dialog\n"
            "/transfer - hand the current dialog to a free operator; /transfer and a name: to that operator\n"
            "/help - this list",
            bot=self.bot_id.name,
        )
