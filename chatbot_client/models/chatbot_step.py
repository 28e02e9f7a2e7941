from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from ..tools.inputs import INPUT_TYPES

_lt = LazyTranslate(__name__)

STEP_TYPES = [
    ("message", "Message"),
    ("question", "Question with answers"),
    ("input", "Input"),
    ("create_lead", "Create lead"),
    ("create_ticket", "Create ticket"),
    ("operator", "Hand over to an operator"),
    ("goto", "Go to step"),
    ("end", "End"),
]
# Steps that wait for the customer; the others run one after the other at once.
WAITING_TYPES = ("question", "input")
# Steps after which the flow does not go on by itself.
FINAL_TYPES = ("operator", "end")
# What an input type may be stored in, by the type of the target field.
FIELD_TYPES_BY_INPUT = {
    "text": ("char", "text", "html"),
    "email": ("char", "text"),
    "phone": ("char", "text"),
    "number": ("char", "text", "float", "integer", "monetary"),
    "date": ("char", "text", "date"),
}
STORABLE_FIELD_TYPES = ["char", "text", "html", "float", "integer", "monetary", "date"]
DEFAULT_REASK = {
    "text": _lt("Please write your answer."),
    "email": _lt("That does not look like an e-mail address. Please write it again, e.g. name@example.com."),
    "phone": _lt("That does not look like a phone number. Please write it again, e.g. +380 67 123 4567."),
    "number": _lt("Please write a number."),
    "date": _lt("Please write a date, e.g. 31.12.2026."),
}


class ChatbotStep(models.Model):
    """One step of a client bot's flow (seed §1.2.2): what the bot says, what it waits for, what it does and
    where the flow goes next. Without "Go to step", the flow goes on with the next step of the list."""

    _name = "chatbot.step"
    _description = "Bot step"
    _order = "bot_id, sequence, id"
    _rec_name = "text"

    bot_id = fields.Many2one(
        "chatbot.bot",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("bot_type", "=", "client")],
    )
    company_id = fields.Many2one(related="bot_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    position = fields.Integer("#", compute="_compute_position", help="The step's place in the list.")
    text = fields.Text(
        translate=True,
        help="What the bot writes. {name} is the customer's name; {variable} the answer stored in that "
        "variable by an earlier step.",
    )
    step_type = fields.Selection(STEP_TYPES, "Step type", required=True, default="message")
    answer_ids = fields.One2many("chatbot.step.answer", "step_id", "Answer buttons", copy=True)
    answers_summary = fields.Char("Answers", compute="_compute_answers_summary")
    next_step_id = fields.Many2one(
        "chatbot.step",
        "Go to step",
        ondelete="set null",
        domain="[('bot_id', '=', bot_id), ('id', '!=', id)]",
        help="The step that follows. Empty: the next step of the list (the flow ends after the last one).",
    )
    is_entry_point = fields.Boolean(
        "Can start a flow",
        help="Broadcast buttons may start the flow here, so the step counts as reachable.",
    )
    # --- input ---------------------------------------------------------------------------------------
    input_type = fields.Selection(INPUT_TYPES, default="text")
    text_reask = fields.Text(
        "Re-ask text",
        translate=True,
        help="Sent when the answer is not valid (or, for a question, not one of the answers); the step's "
        "text follows. Empty: a standard text.",
    )
    share_phone_label = fields.Char(
        "Share-phone button",
        translate=True,
        default=lambda self: self.env._("Share my phone number"),
        help="Telegram shows this button under the question: one tap sends the customer's number.",
    )
    variable_name = fields.Char(
        "Variable",
        help="Keep the answer under this name for the dialog: later texts show it as {name_of_variable} and "
        "the lead's description lists it.",
    )
    partner_field_id = fields.Many2one(
        "ir.model.fields",
        "Store on the contact",
        ondelete="set null",
        domain=[("model", "=", "res.partner"), ("store", "=", True), ("ttype", "in", STORABLE_FIELD_TYPES)],
        help="Write the answer into this field of the customer's contact.",
    )
    lead_field_id = fields.Many2one(
        "ir.model.fields",
        "Store on the lead",
        ondelete="set null",
        domain=[("model", "=", "crm.lead"), ("store", "=", True), ("ttype", "in", STORABLE_FIELD_TYPES)],
        help="Write the answer into this field of the lead the flow creates (or created).",
    )
    # --- lead ----------------------------------------------------------------------------------------
    lead_name = fields.Char(
        "Lead title",
        help='{name} and {variables} are replaced. Empty: "<bot>: <customer>".',
    )
    lead_team_id = fields.Many2one("crm.team", "Sales team", ondelete="set null")
    lead_user_id = fields.Many2one(
        "res.users",
        "Salesperson",
        ondelete="set null",
        domain=[("share", "=", False)],
        help="Used when the customer's contact has no salesperson.",
    )
    lead_source_id = fields.Many2one("utm.source", "Source", ondelete="set null")
    lead_tag_ids = fields.Many2many("crm.tag", string="Lead tags")
    # --- ticket --------------------------------------------------------------------------------------
    ticket_target = fields.Selection(
        [("task", "Task in a project"), ("action", "Server action")],
        "Ticket",
        default="task",
        help="Community has no helpdesk: a ticket is a task in a chosen project, or whatever a server action "
        "does (it runs on the dialog: record is the dialog).",
    )
    ticket_project_id = fields.Many2one("project.project", "Project", ondelete="set null")
    ticket_action_id = fields.Many2one(
        "ir.actions.server",
        "Server action",
        ondelete="set null",
        domain=[("model_id.model", "=", "chatbot.dialog")],
    )
    problem = fields.Char(compute="_compute_problem")

    @api.depends("bot_id.step_ids.sequence")
    def _compute_position(self):
        for bot in self.bot_id:
            for index, step in enumerate(bot._chatbot_flow_steps(), start=1):
                if step in self:
                    step.position = index
        for step in self:
            if not step.bot_id or isinstance(step.id, models.NewId):
                step.position = step.position or 0

    @api.depends("answer_ids.name")
    def _compute_answers_summary(self):
        for step in self:
            step.answers_summary = " | ".join(step.answer_ids.mapped("name"))

    @api.depends(
        "step_type", "next_step_id", "answer_ids.next_step_id", "bot_id.operator_bot_id", "ticket_target"
    )
    def _compute_problem(self):
        problems = {}
        for bot in self.bot_id:
            problems.update(bot._chatbot_flow_problems())
        for step in self:
            step.problem = problems.get(step.id, False)

    @api.depends("position", "text", "step_type")
    def _compute_display_name(self):
        types = dict(self._fields["step_type"]._description_selection(self.env))
        for step in self:
            label = (step.text or types.get(step.step_type) or "").strip().splitlines()
            label = (label[0] if label else "")[:60]
            step.display_name = f"{step.position}. {label}" if step.position else label

    # ------------------------------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------------------------------

    @api.constrains("next_step_id", "step_type", "bot_id")
    def _check_next_step(self):
        for step in self:
            if step.next_step_id and step.next_step_id.bot_id != step.bot_id:
                raise ValidationError(
                    self.env._('Step "%(step)s" goes to a step of another bot.', step=step.display_name)
                )
            if step.step_type == "goto" and not step.next_step_id:
                raise ValidationError(
                    self.env._(
                        'Step "%(step)s" is a "Go to step" step without the step to go to.',
                        step=step.display_name,
                    )
                )
        self.bot_id._chatbot_check_flow_loops()

    @api.constrains("partner_field_id", "lead_field_id", "input_type", "step_type")
    def _check_target_fields(self):
        for step in self.filtered(lambda s: s.step_type == "input"):
            allowed = FIELD_TYPES_BY_INPUT.get(step.input_type, ())
            for field in step.partner_field_id | step.lead_field_id:
                if field.ttype not in allowed:
                    raise ValidationError(
                        self.env._(
                            'Step "%(step)s": a %(input)s answer cannot be stored in "%(field)s" '
                            "(a %(type)s field).",
                            step=step.display_name,
                            input=dict(INPUT_TYPES)[step.input_type].lower(),
                            field=field.field_description,
                            type=field.ttype,
                        )
                    )

    @api.constrains("partner_field_id", "lead_field_id", "ticket_action_id")
    def _check_target_models(self):
        """The fields' and the server action's domains hold on the server too: a flow writes only into the
        contact and the lead, and its server action runs on the dialog (a step set through RPC must not make
        the flow write into another model or run an action meant for other records)."""
        expected = {"partner_field_id": "res.partner", "lead_field_id": "crm.lead"}
        for step in self.sudo():
            for fname, model in expected.items():
                field = step[fname]
                if field and (
                    field.model != model or not field.store or field.ttype not in STORABLE_FIELD_TYPES
                ):
                    raise ValidationError(
                        self.env._(
                            'Step "%(step)s": "%(field)s" is not a field the flow can write on %(model)s.',
                            step=step.display_name,
                            field=field.field_description,
                            model=model,
                        )
                    )
            action = step.ticket_action_id
            if action and action.model_id.model != "chatbot.dialog":
                raise ValidationError(
                    self.env._(
                        'Step "%(step)s": the server action "%(action)s" does not run on dialogs.',
                        step=step.display_name,
                        action=action.name,
                    )
                )

    @api.constrains("variable_name")
    def _check_variable_name(self):
        for step in self.filtered("variable_name"):
            if not step.variable_name.isidentifier():
                raise ValidationError(
                    self.env._(
                        'Step "%(step)s": a variable name is one word of letters, digits and "_" '
                        "(e.g. phone or delivery_city), not %(name)r.",
                        step=step.display_name,
                        name=step.variable_name,
                    )
                )

    # ------------------------------------------------------------------------------------------
    # The flow
    # ------------------------------------------------------------------------------------------

    def _chatbot_next(self, answer=None):
        """The step after this one: the answer's, the step's "Go to step", else the next of the list."""
        self.ensure_one()
        if answer and answer.next_step_id:
            return answer.next_step_id
        if self.next_step_id:
            return self.next_step_id
        if self.step_type in FINAL_TYPES:
            return self.browse()
        steps = self.bot_id._chatbot_flow_steps()
        index = list(steps).index(self) if self in steps else -1
        return steps[index + 1] if 0 <= index < len(steps) - 1 else self.browse()

    def _chatbot_successors(self):
        """Every step the flow may go to from this one."""
        self.ensure_one()
        if self.step_type == "question" and self.answer_ids:
            following = self.browse()
            for answer in self.answer_ids:
                following |= self._chatbot_next(answer)
            return following
        return self._chatbot_next()

    def _chatbot_reask_text(self):
        self.ensure_one()
        if self.text_reask:
            return self.text_reask
        if self.step_type == "input":
            return DEFAULT_REASK[self.input_type or "text"]._translate(self.env.lang)
        return self.bot_id._chatbot_settings().text_not_found

    def action_open_step(self):
        """The step's form (the Steps tab's "Edit")."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "chatbot.step",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }


class ChatbotStepAnswer(models.Model):
    """An answer button of a question step, and where it leads."""

    _name = "chatbot.step.answer"
    _description = "Bot step answer"
    _order = "sequence, id"

    step_id = fields.Many2one("chatbot.step", required=True, ondelete="cascade", index=True)
    bot_id = fields.Many2one(related="step_id.bot_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char("Answer", required=True, translate=True)
    next_step_id = fields.Many2one(
        "chatbot.step",
        "Go to step",
        ondelete="set null",
        domain="[('bot_id', '=', bot_id)]",
        help="Where this answer leads. Empty: the question step's own next step.",
    )

    @api.constrains("next_step_id")
    def _check_next_step(self):
        for answer in self.filtered("next_step_id"):
            if answer.next_step_id.bot_id != answer.step_id.bot_id:
                raise ValidationError(
                    self.env._(
                        'The answer "%(answer)s" of step "%(step)s" goes to a step of another bot.',
                        answer=answer.name,
                        step=answer.step_id.display_name,
                    )
                )
        self.step_id.bot_id._chatbot_check_flow_loops()
