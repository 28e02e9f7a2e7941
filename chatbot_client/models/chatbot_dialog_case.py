from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

# the longest subject a case gets from the customer's first message
SUBJECT_LENGTH = 200


class ChatbotDialog(models.Model):
    """Chat actions (seed 002): the operator makes a lead or a ticket from the conversation. By Creatio's rule
    the subject is the customer's first message, the description all the customer's messages before the
    operator's first reply (when there are several), the source "Chat", the contact the dialog's, the
    responsible the operator; the record links back to the dialog and the conversation notes it."""

    _inherit = "chatbot.dialog"

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


class ChatbotDialogCaseMixin(models.AbstractModel):
    """A lead or a ticket made from bot dialogs: its dialogs, a smart button to them."""

    _name = "chatbot.dialog.case.mixin"
    _description = "Made from bot dialogs"

    chatbot_dialog_count = fields.Integer("Bot dialogs", compute="_compute_chatbot_dialog_count")

    def _chatbot_dialog_field(self):
        raise NotImplementedError

    @api.depends_context("uid")
    def _compute_chatbot_dialog_count(self):
        field = self._chatbot_dialog_field()
        # sudo: the count of the record's dialogs, shown to whoever reads the record
        counts = dict(
            self.env["chatbot.dialog"].sudo()._read_group([(field, "in", self.ids)], [field], ["__count"])
        )
        for record in self:
            record.chatbot_dialog_count = counts.get(record, 0)

    def action_chatbot_dialogs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Bot dialogs"),
            "res_model": "chatbot.dialog",
            "view_mode": "list,form",
            "domain": [(self._chatbot_dialog_field(), "=", self.id)],
        }


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "chatbot.dialog.case.mixin"]

    def _chatbot_dialog_field(self):
        return "lead_id"


class ProjectTask(models.Model):
    _name = "project.task"
    _inherit = ["project.task", "chatbot.dialog.case.mixin"]

    def _chatbot_dialog_field(self):
        return "task_id"
