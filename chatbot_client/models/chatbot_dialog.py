import logging
import re
from datetime import date

from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tools import format_datetime, plaintext2html

from odoo.addons.chatbot_base.tools.connector import Button

from ..tools.inputs import display, read_input

# the longest subject a case gets from the customer's first message
SUBJECT_LENGTH = 200

_logger = logging.getLogger(__name__)

# Steps run for one customer event at most; the flow check refuses loops that do not wait for the customer,
# this bound only protects a customer from a flow broken behind the check's back.
MAX_STEPS_PER_EVENT = 50
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
# Button data of the flow: "a:<answer id>" answers the current question; "st:<step id>" (broadcast
# buttons) starts the flow at a step.
ANSWER_PREFIX = "a:"
START_PREFIX = "st:"
FLOW_ERRORS = (AccessError, MissingError, UserError, ValidationError)


class ChatbotDialog(models.Model):
    """The client flow of a dialog: the step the customer is at, the answers they gave, the lead and the
    ticket the flow created."""

    _inherit = "chatbot.dialog"

    step_id = fields.Many2one(
        "chatbot.step",
        "Current step",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The question or input step waiting for the customer's answer.",
    )
    flow_variables = fields.Json("Variables", readonly=True, copy=False)
    flow_answers = fields.Json("Answers", readonly=True, copy=False)
    flow_answers_html = fields.Html("Answers given", compute="_compute_flow_answers_html", sanitize=False)
    flow_keyboard = fields.Boolean(
        readonly=True, copy=False, help="A reply keyboard (share-phone button) is shown to the customer."
    )
    flow_error = fields.Text("Flow error", readonly=True, copy=False)
    lead_id = fields.Many2one("crm.lead", readonly=True, copy=False, ondelete="set null")
    task_id = fields.Many2one("project.task", "Ticket", readonly=True, copy=False, ondelete="set null")
    close_reason = fields.Selection(selection_add=[("flow", "End of the flow")])

    def _chatbot_child_values(self):
        values = super()._chatbot_child_values()
        # the operator who carries a transferred dialog on sees the flow's answers and its lead or ticket
        values.update(
            flow_answers=self.flow_answers,
            flow_variables=self.flow_variables,
            lead_id=self.lead_id.id,
            task_id=self.task_id.id,
        )
        return values

    def _compute_flow_answers_html(self):
        for dialog in self:
            answers = dialog.flow_answers or []
            dialog.flow_answers_html = self._chatbot_answers_html(answers) if answers else False

    @staticmethod
    def _chatbot_answers_html(answers):
        return Markup("<ul class='mb-0'>%s</ul>") % Markup("").join(
            Markup("<li>%s <b>%s</b></li>") % (escape(a["question"]), escape(a["answer"])) for a in answers
        )

    # ------------------------------------------------------------------------------------------
    # Events
    # ------------------------------------------------------------------------------------------

    def _chatbot_on_bot_event(self, message, event):
        if self.bot_id.bot_type != "client":
            return super()._chatbot_on_bot_event(message, event)
        lang = self._chatbot_customer_lang()
        dialog = self.with_context(lang=lang) if lang else self
        return dialog._chatbot_flow_on_event(message, event)

    def _chatbot_flow_on_event(self, message, event):
        """Move the customer through the flow: start it, take the answer of the waiting step, run the steps
        that follow until one waits for the customer or ends the flow."""
        self.ensure_one()
        bot = self.bot_id
        settings = bot._chatbot_settings()
        steps = bot._chatbot_flow_steps()
        if not steps:
            if not bot.operator_bot_id:
                return  # a bot not set up yet: its dialogs keep the messages, nobody answers
            # a client bot without steps is a front door to its operators
            if settings.wait_start_message and event.command != "start":
                self._chatbot_send(self._chatbot_say("text_not_found"))
            else:
                self._chatbot_request_operator(bot.operator_bot_id)
            return
        entry = self._chatbot_flow_entry(event, steps)
        if entry:
            self._chatbot_flow_reset()
            return self._chatbot_flow_run(entry)
        if event.command == "start":
            self._chatbot_flow_reset()
            return self._chatbot_flow_run(steps[0])
        step = self.step_id
        if not step:
            if settings.wait_start_message:
                self._chatbot_send(self._chatbot_say("text_not_found"))
                return
            return self._chatbot_flow_run(steps[0])
        if step.step_type == "question":
            answer = self._chatbot_flow_find_answer(step, event)
            if not answer:
                return self._chatbot_flow_prompt(step, reask=True)
            self._chatbot_flow_store(step, answer.name, answer.name)
            return self._chatbot_flow_run(step._chatbot_next(answer))
        value = self._chatbot_flow_read(step, event)
        if value is None:
            return self._chatbot_flow_prompt(step, reask=True)
        self._chatbot_flow_store(step, value, display(value))
        return self._chatbot_flow_run(step._chatbot_next())

    def _chatbot_flow_entry(self, event, steps):
        """The step a broadcast button starts (button data "st:<id>"), if it is one of this bot's."""
        data = event.button_data or ""
        if not data.startswith(START_PREFIX):
            return steps.browse()
        step_id = data[len(START_PREFIX) :]
        return steps.filtered(lambda s: str(s.id) == step_id)[:1]

    def _chatbot_flow_find_answer(self, step, event):
        """The answer the customer chose: their button, its label typed in, or its number in the list."""
        answers = step.answer_ids
        data = event.button_data or ""
        if data:
            return answers.filtered(lambda a: f"{ANSWER_PREFIX}{a.id}" == data)[:1]
        text = (event.text or "").strip().casefold()
        if not text:
            return answers.browse()
        chosen = answers.filtered(lambda a: a.name.strip().casefold() == text)[:1]
        if not chosen and text.isdigit() and 1 <= int(text) <= len(answers):
            chosen = answers[int(text) - 1]
        return chosen

    def _chatbot_flow_read(self, step, event):
        """The valid value of an input step's answer, or None."""
        if step.input_type == "phone" and event.contact_phone:
            text = event.contact_phone
        elif event.command:
            return None
        else:
            text = event.text
        region = self.partner_id.country_id.code or self.bot_id._chatbot_phone_region()
        lang = self.env["res.lang"]._get_data(code=self.env.lang or "en_US")
        return read_input(step.input_type, text, region=region, lang_format=lang.date_format or None)

    def _chatbot_flow_reset(self):
        self.write({"step_id": False, "flow_variables": {}, "flow_answers": []})

    # ------------------------------------------------------------------------------------------
    # Running steps
    # ------------------------------------------------------------------------------------------

    def _chatbot_flow_run(self, step):
        """Run `step` and the steps after it until one waits for the customer, hands them over or ends."""
        self.ensure_one()
        for _count in range(MAX_STEPS_PER_EVENT):
            if not step:
                # the last step of the list said its piece: nothing more to wait for
                self.step_id = False
                self._chatbot_flow_close()
                return
            kind = step.step_type
            if kind in ("question", "input"):
                self.step_id = step
                self._chatbot_flow_prompt(step)
                return
            if kind == "operator":
                self.step_id = False
                self._chatbot_flow_say(step)
                self._chatbot_flow_hand_over(step)
                return
            if kind == "end":
                self.step_id = False
                self._chatbot_flow_say(step)
                self._chatbot_flow_close()
                return
            if kind == "create_lead":
                lead = self._chatbot_flow_create_lead(step)
                if lead and self.bot_id._chatbot_settings().send_after_lead:
                    self._chatbot_flow_say(step)
            elif kind == "create_ticket":
                self._chatbot_flow_create_ticket(step)
                self._chatbot_flow_say(step)
            else:  # message, goto
                self._chatbot_flow_say(step)
            step = step._chatbot_next()
        self._chatbot_flow_fail(
            step,
            self.env._("more than %(count)s steps in a row without the customer", count=MAX_STEPS_PER_EVENT),
        )
        self.step_id = False

    def _chatbot_flow_render(self, text):
        """`text` with {name} and the dialog's {variables} filled in; unknown names stay as written."""
        if not text:
            return ""
        values = {"name": self._chatbot_customer_name(), **(self.flow_variables or {})}
        return PLACEHOLDER_RE.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)

    def _chatbot_flow_say(self, step, **kwargs):
        text = self._chatbot_flow_render(step.text)
        if text or kwargs.get("buttons") or kwargs.get("keyboard"):
            return self._chatbot_send(text, **kwargs)

    def _chatbot_flow_prompt(self, step, reask=False):
        """Ask the step's question: with its answer buttons, or the share-phone button of a phone input."""
        kwargs = {}
        if step.step_type == "question":
            kwargs["buttons"] = [
                [Button(label=a.name, data=f"{ANSWER_PREFIX}{a.id}")] for a in step.answer_ids
            ]
        elif step.input_type == "phone" and step.share_phone_label:
            kwargs["keyboard"] = [[Button(label=step.share_phone_label, request_phone=True)]]
        if reask:
            text = "\n\n".join(
                part
                for part in (
                    self._chatbot_flow_render(step._chatbot_reask_text()),
                    self._chatbot_flow_render(step.text),
                )
                if part
            )
            return self._chatbot_send(text, **kwargs)
        return self._chatbot_flow_say(step, **kwargs)

    def _chatbot_track_keyboard(self, outbound_message):
        # a reply keyboard (the share-phone button) stays under the chat until a message removes it: the
        # first message after the phone step that carries no buttons of its own does
        result = super()._chatbot_track_keyboard(outbound_message)
        if outbound_message.keyboard:
            self.flow_keyboard = True
        elif self.flow_keyboard and not outbound_message.buttons:
            outbound_message.remove_keyboard = True
            self.flow_keyboard = False
        return result

    def _chatbot_flow_hand_over(self, step):
        operator_bot = self.bot_id.operator_bot_id
        if not operator_bot:
            self._chatbot_flow_fail(step, self.env._("the bot has no operator bot"))
            self._chatbot_send(self._chatbot_say("text_no_operator"))
            return
        self._chatbot_request_operator(operator_bot)

    def _chatbot_off_hours(self, bot):
        # outside the operators' working hours a client bot may carry on with a step of its flow instead of
        # the queue (e.g. leave a phone number for a lead)
        step = self.bot_id.off_hours_step_id
        if self.bot_id.bot_type != "client" or not step:
            return super()._chatbot_off_hours(bot)
        self._chatbot_flow_run(step)
        return self.env["chatbot.operator"]

    def _chatbot_flow_close(self):
        if self.state == "bot":
            self.close_reason = "flow"
            self.action_close()

    def _chatbot_flow_fail(self, step, reason):
        """A step could not do its work: the dialog says why (its Flow error), the customer goes on."""
        text = self.env._(
            'Step "%(step)s": %(reason)s', step=step.display_name if step else "?", reason=reason
        )
        _logger.warning("chatbot.dialog %s: %s", self.id, text)
        self.flow_error = "\n".join(filter(None, [self.flow_error, text]))

    # ------------------------------------------------------------------------------------------
    # Storing answers
    # ------------------------------------------------------------------------------------------

    def _chatbot_flow_store(self, step, value, shown):
        """Keep the answer: in the dialog (variable, the list of answers), on the contact, on the lead."""
        question = (self._chatbot_flow_render(step.text).strip().splitlines() or [step.display_name])[-1]
        variables = dict(self.flow_variables or {})
        if step.variable_name:
            variables[step.variable_name] = shown
        answers = [*(self.flow_answers or []), {"step": step.id, "question": question, "answer": shown}]
        self.write({"flow_variables": variables, "flow_answers": answers})
        sender = self.sender_id
        if step.step_type == "input" and step.input_type == "phone":
            sender._chatbot_set_phone(value)
            if sender.partner_id and self.partner_id != sender.partner_id:
                self.partner_id = sender.partner_id
        elif step.step_type == "input" and step.input_type == "email" and value != sender.email:
            sender.email = value
        # sudo: the targets' technical names and types; the writes run with the flow's rights
        partner_field, lead_field = step.sudo().partner_field_id, step.sudo().lead_field_id
        if partner_field:
            partner = self.partner_id or sender._chatbot_ensure_partner()
            if partner:
                self.partner_id = partner
                self._chatbot_flow_write(step, partner, partner_field, value)
        if lead_field and self.lead_id:
            self._chatbot_flow_write(step, self.lead_id, lead_field, value)

    def _chatbot_flow_write(self, step, record, field, value):
        env = self._chatbot_flow_env()
        try:
            with self.env.cr.savepoint():
                record.with_env(env).write({field.name: self._chatbot_field_value(field, value)})
        except FLOW_ERRORS as error:
            self._chatbot_flow_fail(step, error)

    @staticmethod
    def _chatbot_field_value(field, value):
        if field.ttype == "date":
            return value if isinstance(value, date) else False
        if field.ttype == "integer":
            return round(value) if isinstance(value, float) else False
        if field.ttype in ("float", "monetary"):
            return value if isinstance(value, float) else False
        if field.ttype == "html":
            return plaintext2html(display(value))
        return display(value)

    def _chatbot_flow_env(self):
        """Where the flow's actions run: with full rights when the bot is "Sudo", else with the rights of
        the bot's technical user (the processing user: CRM and Project user rights, see README)."""
        bot = self.bot_id
        if bot._chatbot_settings().is_sudo:
            return self.env(su=True)
        return self.env(user=bot._chatbot_processor(), su=False)

    # ------------------------------------------------------------------------------------------
    # Leads and tickets
    # ------------------------------------------------------------------------------------------

    def _chatbot_flow_description(self):
        """What the salesperson reads: the answers captured by the flow, then what the customer wrote
        before an operator first answered."""
        parts = []
        if self.flow_answers:
            parts.append(Markup("<p><b>%s</b></p>") % self.env._("Answers"))
            parts.append(self._chatbot_answers_html(self.flow_answers))
        messages = self.message_ids.filtered(
            lambda m: (
                m.direction == "in"
                and m.body
                and (not self.first_reply_date or m.date <= self.first_reply_date)
            )
        ).sorted(lambda m: (m.date, m.id))
        if messages:
            parts.append(Markup("<p><b>%s</b></p>") % self.env._("Messages"))
            parts.append(
                Markup("<p>%s</p>")
                % Markup("<br/>").join(
                    Markup("%s — %s") % (format_datetime(self.env, m.date, dt_format="short"), m.body)
                    for m in messages[-100:]
                )
            )
        parts.append(
            Markup("<p>%s</p>")
            % self.env._(
                "From %(bot)s, dialog %(code)s (%(channel)s).",
                bot=self.bot_id.name,
                code=self.code,
                channel=self.channel_id.display_name,
            )
        )
        return Markup("").join(parts)

    def _chatbot_flow_answer_values(self, model):
        """{field name: value} of the answers stored on the lead by input steps."""
        values = {}
        steps = self.env["chatbot.step"].browse([a["step"] for a in self.flow_answers or []]).exists()
        by_step = {a["step"]: a for a in self.flow_answers or []}
        # sudo: the targets' technical names and types (ir.model.fields is for administrators)
        for step in steps.sudo().filtered(lambda s: s.lead_field_id.model == model):
            value = self._chatbot_flow_value_of(step, by_step[step.id]["answer"])
            values[step.lead_field_id.name] = self._chatbot_field_value(step.lead_field_id, value)
        return values

    def _chatbot_flow_value_of(self, step, shown):
        if step.step_type == "input":
            value = read_input(step.input_type, shown)
            return shown if value is None else value
        return shown

    def _chatbot_flow_create_lead(self, step):
        """A CRM lead for the customer (once per dialog; a second "create lead" step updates the first)."""
        env = self._chatbot_flow_env()
        partner = self.partner_id or self.sender_id._chatbot_ensure_partner()
        if partner and partner != self.partner_id:
            self.partner_id = partner
        partner_sudo = partner.sudo()
        salesperson = partner_sudo.user_id or step.lead_user_id
        team = step.lead_team_id
        values = {
            "name": self._chatbot_flow_render(step.lead_name)
            or self.env._("%(bot)s: %(name)s", bot=self.bot_id.name, name=self._chatbot_customer_name()),
            "description": self._chatbot_flow_description(),
            # never the technical user the flow runs as (crm's default): the partner's or the step's
            "user_id": salesperson.id or False,
            "company_id": self.company_id.id,
            # as a chat action's lead: from a "Chat", through the messenger, unless the step names a source
            "source_id": step.lead_source_id.id or self.env.ref("chatbot_client.utm_source_chat").id,
            "medium_id": self._chatbot_case_medium().id,
            "tag_ids": [(6, 0, step.lead_tag_ids.ids)],
            **self._chatbot_flow_answer_values("crm.lead"),
        }
        if team:
            values["team_id"] = team.id
            values["type"] = "lead" if team.use_leads else "opportunity"
        if partner:
            values["partner_id"] = partner.id
        else:
            values["contact_name"] = self.sender_id.name
        if self.sender_id.phone and not (partner_sudo.phone or partner_sudo.mobile):
            values["phone"] = self.sender_id.phone
        if self.sender_id.email and not partner_sudo.email:
            values["email_from"] = self.sender_id.email
        try:
            with self.env.cr.savepoint():
                # the salesperson is told below: the technical user has no e-mail address to write from
                Lead = (
                    env["crm.lead"]
                    .with_company(self.company_id)
                    .with_context(mail_auto_subscribe_no_notify=True)
                )
                if self.lead_id:
                    lead = self.lead_id.with_env(Lead.env)
                    before = lead.user_id
                    values.pop("name")
                    lead.write(values)
                    self._chatbot_flow_notify_assigned(lead, lead.user_id - before)
                else:
                    lead = Lead.create(values)
                    self._chatbot_flow_notify_assigned(lead, lead.user_id)
        except FLOW_ERRORS as error:
            self._chatbot_flow_fail(step, error)
            return self.env["crm.lead"]
        self.lead_id = lead.id
        self.flow_variables = {**(self.flow_variables or {}), "lead": lead.id}
        return lead

    def _chatbot_flow_notify_assigned(self, record, users):
        """Tell the salesperson or the assignees that the flow gave them `record`, as Odoo does when a user
        assigns one. Written by OdooBot, as Odoo's own automated assignments are: the technical user the flow
        runs as has no e-mail address to write from."""
        partners = users.partner_id
        if partners:
            record.with_user(SUPERUSER_ID).with_context(
                mail_auto_subscribe_no_notify=False
            )._message_auto_subscribe_notify(partners.ids, "mail.message_user_assigned")

    def _chatbot_flow_create_ticket(self, step):
        """A ticket: a task in the step's project, or what the step's server action does with the dialog."""
        env = self._chatbot_flow_env()
        try:
            with self.env.cr.savepoint():
                if step.ticket_target == "action":
                    if not step.ticket_action_id:
                        raise UserError(self.env._("no server action is chosen"))
                    step.ticket_action_id.with_env(env).with_context(
                        active_model=self._name, active_id=self.id, active_ids=self.ids
                    ).run()
                    return True
                if not step.ticket_project_id:
                    raise UserError(self.env._("no project is chosen"))
                partner = self.partner_id or self.sender_id._chatbot_ensure_partner()
                task = (
                    env["project.task"]
                    .with_company(self.company_id)
                    .with_context(mail_auto_subscribe_no_notify=True)
                    .create(
                        {
                            "name": self._chatbot_flow_render(step.lead_name)
                            or self.env._(
                                "%(bot)s: %(name)s", bot=self.bot_id.name, name=self._chatbot_customer_name()
                            ),
                            "project_id": step.ticket_project_id.id,
                            "partner_id": partner.id or False,
                            "description": self._chatbot_flow_description(),
                            # never the technical user the flow runs as (the task's default assignee)
                            "user_ids": [(6, 0, step.lead_user_id.ids)],
                            "tag_ids": [(4, self._chatbot_chat_tag().id)],
                        }
                    )
                )
                self._chatbot_flow_notify_assigned(task, task.user_ids)
        except FLOW_ERRORS as error:
            self._chatbot_flow_fail(step, error)
            return False
        self.task_id = task.id
        self.flow_variables = {**(self.flow_variables or {}), "ticket": task.id}
        return task

    # ------------------------------------------------------------------------------------------
    # Chat actions (seed 002): the operator makes a lead or a ticket from the conversation. By Creatio's
    # rule the subject is the customer's first message, the description all the customer's messages before
    # the operator's first reply (when there are several), the source "Chat", the contact the dialog's, the
    # responsible the operator; the record links back to the dialog and the conversation notes it.
    # ------------------------------------------------------------------------------------------

    def _chatbot_customer_words(self):
        """The customer's own messages of the dialog's whole history, oldest first: not their commands, not
        the buttons they pressed."""
        return self._chatbot_history().filtered(
            lambda m: (
                m.direction == "in"
                and not m.button_data
                and (m.body or "").strip()
                and not m.body.lstrip().startswith("/")
            )
        )

    def _chatbot_case_texts(self):
        """(subject, description) of a case made from the dialog, by Creatio's rule."""
        self.ensure_one()
        words = self._chatbot_customer_words()
        if not words:
            subject = self.env._(
                "Chat %(code)s with %(name)s", code=self.code, name=self._chatbot_customer_name()
            )
            return subject, ""
        subject = words[0].body.strip().splitlines()[0][:SUBJECT_LENGTH]
        reply = self._chatbot_history().filtered(lambda m: m.author_kind == "operator")[:1]
        before = words.filtered(lambda m: not reply or (m.date, m.id) < (reply.date, reply.id))
        description = "\n\n".join(m.body.strip() for m in before) if len(before) > 1 else ""
        return subject, description

    def _chatbot_case_responsible(self):
        """The operator of the dialog, or the user acting (a messenger operator has no Odoo user)."""
        return self.sudo().operator_id.user_id or self.env.user

    def _chatbot_case_check(self):
        self.ensure_one()
        self._chatbot_check_operator_rights()

    def _chatbot_note_case(self, record, what):
        """Tell the conversation which case the operator made (a note, never sent to the customer)."""
        channel = self.sudo().discuss_channel_id
        if not channel:
            return
        link = Markup('<a href="/odoo/%s/%s">%s</a>') % (record._name, record.id, record.display_name)
        channel.with_context(chatbot_no_relay=True).message_post(
            body=Markup(
                self.env._(
                    "%(what)s %(link)s created by %(name)s.", what=what, link=link, name=self.env.user.name
                )
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    def _chatbot_open(self, record):
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "views": [[False, "form"]],
            "target": "current",
        }

    def action_chatbot_create_lead(self, title=None):
        """Chat action *Create lead*: a CRM lead by Creatio's rule (`title`, typed after /lead, replaces the
        subject), or the dialog's lead when it has one."""
        self._chatbot_case_check()
        if self.sudo().lead_id:
            return self._chatbot_open(self.sudo().lead_id)
        self.env["crm.lead"].check_access("create")
        subject, description = self._chatbot_case_texts()
        subject = (title or "").strip() or subject
        partner = self._chatbot_contact()
        values = {
            "name": subject,
            "description": plaintext2html(description) if description else False,
            "partner_id": partner.id or False,
            "contact_name": False if partner else self.sender_id.sudo().name,
            "user_id": self._chatbot_case_responsible().id,
            "source_id": self.env.ref("chatbot_client.utm_source_chat").id,
            "medium_id": self._chatbot_case_medium().id,
            "company_id": self.company_id.id,
        }
        lead = self.env["crm.lead"].with_company(self.company_id).create(values)
        # sudo: the link is the dialog's, whoever may write dialogs
        self.sudo().lead_id = lead
        self._chatbot_note_case(lead, self.env._("Lead"))
        return self._chatbot_open(lead)

    def action_chatbot_create_ticket(self, title=None):
        """Chat action *Create ticket*: a task of the bot's ticket project by Creatio's rule (`title`, typed
        after /ticket, replaces the subject), or the dialog's ticket when it has one."""
        self._chatbot_case_check()
        if self.sudo().task_id:
            return self._chatbot_open(self.sudo().task_id)
        bot = self.sudo().operator_bot_id or self.sudo().bot_id
        project = bot.ticket_project_id or self.sudo().bot_id.ticket_project_id
        if not project:
            raise UserError(
                self.env._(
                    "Choose the project for tickets in the Settings tab of %(bot)s first.", bot=bot.name
                )
            )
        self.env["project.task"].check_access("create")
        subject, description = self._chatbot_case_texts()
        subject = (title or "").strip() or subject
        partner = self._chatbot_contact()
        task = (
            self.env["project.task"]
            .with_company(self.company_id)
            .create(
                {
                    "name": subject,
                    "description": plaintext2html(description) if description else False,
                    "project_id": project.id,
                    "partner_id": partner.id or False,
                    "user_ids": [(6, 0, self._chatbot_case_responsible().ids)],
                    "tag_ids": [(4, self._chatbot_chat_tag().id)],
                }
            )
        )
        self.sudo().task_id = task
        self._chatbot_note_case(task, self.env._("Ticket"))
        return self._chatbot_open(task)

    def _chatbot_case_medium(self):
        """The UTM medium of the dialog's messenger (Telegram, Website live chat…), made on first use."""
        channel = self.channel_id.sudo()
        name = dict(channel._fields["provider"]._description_selection(self.env)).get(channel.provider)
        # sudo: UTM media are technical; an operator who makes a lead names its medium
        Medium = self.env["utm.medium"].sudo()
        return Medium.search([("name", "=", name)], limit=1) or Medium.create({"name": name})

    def _chatbot_chat_tag(self):
        """The project tag "Chat" that marks a ticket's source (tasks have no UTM source in Community)."""
        # sudo: the one tag, made on first use
        Tag = self.env["project.tags"].sudo()
        return Tag.search([("name", "=", "Chat")], limit=1) or Tag.create({"name": "Chat"})

    def _chatbot_operator_command(self, command, args=""):
        command = (command or "").lower()
        if command in ("lead", "ticket"):
            create = (
                self.action_chatbot_create_lead if command == "lead" else self.action_chatbot_create_ticket
            )
            action = create(title=args)
            record = self.env[action["res_model"]].browse(action["res_id"])
            return self.env._(
                "%(name)s is linked to dialog %(code)s: open it from the dialog or the conversation's "
                "header.",
                name=record.display_name,
                code=self.code,
            )
        return super()._chatbot_operator_command(command, args)
