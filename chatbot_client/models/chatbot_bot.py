from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.chatbot_base.models.chatbot_bot import ADMIN_GROUP, MANAGER_GROUP
from odoo.addons.chatbot_base.tools.actions import notification

from .chatbot_step import FINAL_TYPES, WAITING_TYPES


class ChatbotBot(models.Model):
    """Client bots (seed §1.2): the flow of steps, and the operator bot that takes the customer when the
    flow hands over (seed §1.1: an operator bot always works in a pair with client bots)."""

    _inherit = "chatbot.bot"

    operator_bot_id = fields.Many2one(
        "chatbot.bot",
        "Operator bot",
        ondelete="restrict",
        index="btree_not_null",
        domain=[("bot_type", "=", "operator")],
        help="The Operator Chat bot whose operators take this bot's customers when the flow hands them over "
        "(and to which messenger users ask to become operators with /operator).",
    )
    client_bot_ids = fields.One2many("chatbot.bot", "operator_bot_id", "Client bots")
    # --- what the flow's steps may do -----------------------------------------------------------
    is_sudo = fields.Boolean(
        "Sudo",
        groups=ADMIN_GROUP,
        help="Actions started from the bot's dialogs run with full rights instead of the rights of the bot's "
        "processing user.",
    )
    send_after_lead = fields.Boolean(
        "Send message after lead creation",
        default=True,
        groups=ADMIN_GROUP,
        help='Send the text of a "create lead" step after the lead is created.',
    )
    off_hours_step_id = fields.Many2one(
        "chatbot.step",
        "Outside working hours, go to",
        domain="[('bot_id', '=', id)]",
        ondelete="set null",
        help="When the consultation bot's operators are off (its working hours), a customer handed over goes "
        "to this step of the flow instead of waiting in the queue (e.g. leave a phone number for a lead).",
    )
    ticket_project_id = fields.Many2one(
        "project.project",
        "Project for tickets",
        ondelete="set null",
        help="Where the chat action Create ticket puts the tasks it makes from this bot's dialogs.",
    )
    step_ids = fields.One2many("chatbot.step", "bot_id", "Steps")
    step_count = fields.Integer(compute="_compute_step_count")
    flow_problems = fields.Html(
        "Flow problems", compute="_compute_flow_problems", sanitize=False, help="What the flow check found."
    )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_sudo_rights(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._check_sudo_rights([vals])
        return super().write(vals)

    def _check_sudo_rights(self, vals_list):
        """ "Sudo" runs the flow's actions as the superuser: granting that is a system administrator's
        decision, beyond a Bots administrator's rights (who may still turn it off)."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        if any(vals.get("is_sudo") for vals in vals_list):
            raise AccessError(
                self.env._("Only system administrators can let a bot's actions run with full rights.")
            )

    @api.constrains("operator_bot_id", "bot_type")
    def _check_operator_bot(self):
        for bot in self.filtered("operator_bot_id"):
            if bot.bot_type != "client":
                raise ValidationError(
                    self.env._(
                        "Only a Client Chat bot is linked to an operator bot: %(bot)s is not one.",
                        bot=bot.name,
                    )
                )
            if bot.operator_bot_id.bot_type != "operator":
                raise ValidationError(
                    self.env._(
                        "%(other)s is not an Operator Chat bot: %(bot)s cannot hand customers over to it.",
                        other=bot.operator_bot_id.name,
                        bot=bot.name,
                    )
                )

    @api.depends("step_ids")
    def _compute_step_count(self):
        for bot in self:
            bot.step_count = len(bot.step_ids)

    @api.depends(
        "step_ids.step_type",
        "step_ids.next_step_id",
        "step_ids.sequence",
        "step_ids.answer_ids.next_step_id",
        "operator_bot_id",
    )
    def _compute_flow_problems(self):
        for bot in self:
            problems = bot._chatbot_flow_problems() if bot.bot_type == "client" else {}
            if not problems:
                bot.flow_problems = False
                continue
            steps = self.env["chatbot.step"].browse(list(problems))
            bot.flow_problems = Markup("<ul class='mb-0'>%s</ul>") % Markup("").join(
                Markup("<li><b>%s</b>: %s</li>") % (step.display_name, escape(problems[step.id]))
                for step in steps.sorted(lambda s: s.position)
            )

    def _chatbot_operator_bot(self):
        self.ensure_one()
        if self.bot_type == "client":
            return self.operator_bot_id
        return super()._chatbot_operator_bot()

    def copy_data(self, default=None):
        # the steps are copied by copy(), which maps their links onto the new steps
        default = dict(default or {}, step_ids=[])
        return super().copy_data(default)

    def copy(self, default=None):
        new_bots = super().copy(default)
        for bot, new_bot in zip(self, new_bots, strict=True):
            bot._chatbot_copy_flow(new_bot)
        return new_bots

    def _chatbot_copy_flow(self, target):
        """Copy the steps to `target`, with the "go to step" links pointing to the copies (two bots for two
        cities: duplicate the first, change the operator bot and the texts)."""
        self.ensure_one()
        mapping = {}
        for step in self.step_ids:
            mapping[step] = step.copy({"bot_id": target.id, "next_step_id": False, "answer_ids": []})
        for step, copied in mapping.items():
            if step.next_step_id:
                copied.next_step_id = mapping[step.next_step_id]
            for answer in step.answer_ids:
                answer.copy(
                    {
                        "step_id": copied.id,
                        "next_step_id": mapping[answer.next_step_id].id if answer.next_step_id else False,
                    }
                )
        return target

    # ------------------------------------------------------------------------------------------
    # The flow and its checks
    # ------------------------------------------------------------------------------------------

    def _chatbot_flow_steps(self):
        """The steps in the order of the list; the flow starts with the first."""
        self.ensure_one()
        return self.step_ids.sorted(lambda s: (s.sequence, s.id))

    def _chatbot_flow_problems(self):
        """{step id: what is wrong} for the whole flow: a step that goes nowhere, cannot be reached, or
        cannot run (a question without answers, a hand-over without an operator bot, a ticket without a
        target)."""
        self.ensure_one()
        steps = self._chatbot_flow_steps()
        if not steps:
            return {}
        problems = {}

        def add(step, text):
            problems.setdefault(step.id, text)

        for step in steps:
            if step.step_type == "goto" and not step.next_step_id:
                add(step, self.env._('"Go to step" names no step to go to.'))
            elif step.step_type == "question" and not step.answer_ids:
                add(step, self.env._("A question needs at least one answer."))
            elif step.step_type == "operator" and not self.operator_bot_id:
                add(step, self.env._("The bot has no operator bot to hand the customer over to (Settings)."))
            elif step.step_type == "create_ticket":
                if step.ticket_target == "task" and not step.ticket_project_id:
                    add(step, self.env._("Choose the project of the tickets."))
                elif step.ticket_target == "action" and not step.ticket_action_id:
                    add(step, self.env._("Choose the server action that creates the ticket."))
            elif step.step_type in ("message", *WAITING_TYPES) and not (step.text or "").strip():
                add(step, self.env._("The step has no text."))
        reached = self._chatbot_reachable(steps)
        for step in steps - reached:
            add(step, self.env._("No step leads here: the customer can never reach it."))
        for loop in self._chatbot_loops_without_input(steps):
            add(
                loop[0],
                self.env._(
                    "The flow loops without waiting for the customer: %(path)s.",
                    path=" → ".join(s.display_name for s in (*loop, loop[0])),
                ),
            )
        return problems

    def _chatbot_reachable(self, steps):
        roots = steps[:1] | steps.filtered("is_entry_point")
        reached = self.env["chatbot.step"]
        todo = list(roots)
        while todo:
            step = todo.pop()
            if step in reached:
                continue
            reached |= step
            todo.extend(step._chatbot_successors() - reached)
        return reached

    def _chatbot_loops_without_input(self, steps):
        """Cycles made only of steps that do not wait for the customer (each as a list of steps)."""
        running = steps.filtered(lambda s: s.step_type not in WAITING_TYPES + FINAL_TYPES)
        edges = {step: step._chatbot_successors() & running for step in running}
        loops, state = [], {}

        def visit(step, path):
            state[step] = "open"
            path.append(step)
            for following in edges[step]:
                if state.get(following) == "open":
                    loops.append(path[path.index(following) :])
                elif following not in state:
                    visit(following, path)
            path.pop()
            state[step] = "done"

        for step in running:
            if step not in state:
                visit(step, [])
        return loops

    def _chatbot_check_flow_loops(self):
        """Refuse to save a flow that would loop forever without waiting for the customer."""
        for bot in self.filtered(lambda b: b.bot_type == "client"):
            loops = bot._chatbot_loops_without_input(bot._chatbot_flow_steps())
            if loops:
                raise ValidationError(
                    self.env._(
                        'Step "%(step)s" loops without waiting for the customer: %(path)s. Put a question '
                        "or an input step in the loop, or end it.",
                        step=loops[0][0].display_name,
                        path=" → ".join(s.display_name for s in (*loops[0], loops[0][0])),
                    )
                )

    def action_check_flow(self):
        """The "Check flow" button: a notification when all is well, else the problems, step by step."""
        self.ensure_one()
        problems = self._chatbot_flow_problems()
        if not self.step_ids:
            raise UserError(self.env._("%(bot)s has no steps yet: add the first one.", bot=self.name))
        if problems:
            steps = self.env["chatbot.step"].browse(list(problems)).sorted(lambda s: s.position)
            raise UserError(
                self.env._("The flow of %(bot)s has problems:", bot=self.name)
                + "\n"
                + "\n".join(f"• {step.display_name}: {problems[step.id]}" for step in steps)
            )
        return notification(
            self.env._(
                "The flow of %(bot)s is fine: %(count)s steps, all reachable.",
                bot=self.name,
                count=len(self.step_ids),
            )
        )

    def action_add_step(self):
        """The Steps tab's "Add step": a new step's form."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New step"),
            "res_model": "chatbot.step",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_bot_id": self.id,
                "default_sequence": max(self.step_ids.mapped("sequence"), default=0) + 10,
            },
        }

    def _chatbot_test_channel(self):
        """The bot's hidden "browser" channel, where its Test page plays a customer (created on first use)."""
        self.ensure_one()
        # sudo: a manager testing a flow needs the channel; it is archived, so no list shows it
        Channel = self.env["chatbot.channel"].sudo().with_context(active_test=False)
        channel = Channel.search([("bot_id", "=", self.id), ("provider", "=", "browser")], limit=1)
        return channel or Channel.create(
            {
                "name": self.env._("Test in the browser"),
                "bot_id": self.id,
                "provider": "browser",
                "active": False,
            }
        )

    def action_test_flow(self):
        """The "Test" button: the flow in a browser tab, the author playing the customer."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Bots managers test bot flows."))
        self._chatbot_test_channel()
        return {"type": "ir.actions.act_url", "url": f"/chatbot/test/{self.id}", "target": "new"}

    def action_view_steps(self):
        """The bot's steps."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("chatbot_client.chatbot_step_action")
        title = self.env._("%(bot)s: %(what)s", bot=self.name, what=self.env._("Steps"))
        # Odoo 18's web client titles the view (and its breadcrumb) with display_name, before name
        action.update(
            name=title,
            display_name=title,
            domain=[("bot_id", "=", self.id)],
            context={"default_bot_id": self.id},
        )
        return action
