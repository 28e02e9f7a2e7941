from markupsafe import Markup

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ClientCase


@tagged("chatbot", "post_install", "-at_install")
class TestChatActions(ClientCase):
    """Seed 002's chat actions: a lead or a ticket made from the conversation by Creatio's rule."""

    def setUp(self):
        super().setUp()
        self.project = self.env["project.project"].create({"name": "Support desk"})
        self.operator_bot.ticket_project_id = self.project
        self.say("My sofa arrived broken")
        self.say("/start")
        dialog = self.say("The left leg is missing")
        dialog._chatbot_request_operator()
        self.dialog = dialog
        self.user = dialog.operator_id.user_id
        self.user.groups_id += self.env.ref("sales_team.group_sale_salesman") + self.env.ref(
            "project.group_project_user"
        )
        self.conversation = dialog.discuss_channel_id
        self.conversation.with_user(self.user).message_post(
            body="Sorry to hear that: which order?", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.say("Order 42")

    def notes(self):
        return [
            str(m.body) for m in self.conversation.message_ids if m.subtype_id == self.env.ref("mail.mt_note")
        ]

    def test_create_lead_by_creatios_rule(self):
        action = self.dialog.with_user(self.user).action_chatbot_create_lead()
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(lead.name, "My sofa arrived broken", "the customer's first message (no command)")
        self.assertIn("My sofa arrived broken", lead.description)
        self.assertIn("The left leg is missing", lead.description)
        self.assertNotIn("Order 42", lead.description, "written after the operator's first reply")
        self.assertNotIn("/start", lead.description)
        self.assertEqual(lead.source_id, self.env.ref("chatbot_client.utm_source_chat"))
        self.assertEqual(lead.source_id.name, "Chat")
        self.assertEqual(lead.medium_id.name, "Fake messenger")
        self.assertEqual(lead.user_id, self.user, "the operator is responsible")
        self.assertTrue(self.dialog.partner_id, "the contact made from the messenger profile")
        self.assertEqual(lead.partner_id, self.dialog.partner_id)
        self.assertEqual(self.dialog.lead_id, lead)
        self.assertEqual(lead.chatbot_dialog_count, 1, "the lead's smart button to its dialog")
        self.assertEqual(lead.action_chatbot_dialogs()["domain"], [("lead_id", "=", lead.id)])
        note = [n for n in self.notes() if "created by" in n]
        self.assertEqual(len(note), 1)
        self.assertIn(f'href="/odoo/crm.lead/{lead.id}"', note[0])
        # a second time: the dialog's lead, not another one
        again = self.dialog.with_user(self.user).action_chatbot_create_lead()
        self.assertEqual(again["res_id"], lead.id)
        self.assertEqual(self.env["crm.lead"].search_count([("name", "=", "My sofa arrived broken")]), 1)
        # nothing of it reached the customer
        self.assertFalse([t for t in self.bot_texts(self.dialog) if "created by" in t])

    def test_create_ticket_in_the_bots_project(self):
        action = self.dialog.with_user(self.user).action_chatbot_create_ticket()
        task = self.env["project.task"].browse(action["res_id"])
        self.assertEqual((task.name, task.project_id), ("My sofa arrived broken", self.project))
        self.assertIn("The left leg is missing", task.description)
        self.assertEqual(task.user_ids, self.user)
        self.assertEqual(task.partner_id, self.dialog.partner_id)
        self.assertEqual(task.tag_ids.mapped("name"), ["Chat"])
        self.assertEqual((self.dialog.task_id, task.chatbot_dialog_count), (task, 1))

    def test_one_message_before_the_reply_gives_no_description(self):
        # Creatio's rule: the description lists the customer's messages when there are several
        self.dialog.message_ids.filtered(lambda m: m.body == "The left leg is missing").unlink()
        lead = self.env["crm.lead"].browse(
            self.dialog.with_user(self.user).action_chatbot_create_lead()["res_id"]
        )
        self.assertEqual(lead.name, "My sofa arrived broken")
        self.assertFalse(lead.description)

    def test_a_ticket_needs_the_bots_project(self):
        self.operator_bot.ticket_project_id = False
        with self.assertRaisesRegex(
            UserError, "Choose the project for tickets in the Settings tab of Consultations"
        ):
            self.dialog.with_user(self.user).action_chatbot_create_ticket()

    def test_only_the_operator_and_only_with_crm_rights(self):
        other = self.users[1] if self.users[1] != self.user else self.users[0]
        other.groups_id += self.env.ref("sales_team.group_sale_salesman")
        with self.assertRaises(AccessError):
            self.dialog.with_user(other).action_chatbot_create_lead()
        self.user.groups_id -= self.env.ref("sales_team.group_sale_salesman_all_leads") + self.env.ref(
            "sales_team.group_sale_salesman"
        )
        with self.assertRaises(AccessError):
            self.dialog.with_user(self.user).action_chatbot_create_lead()
        self.assertFalse(self.dialog.lead_id)

    def test_lead_and_ticket_typed_in_the_conversation(self):
        reply = self.conversation.with_user(self.user).chatbot_execute_command("lead", "/lead Sofa leg")
        self.assertEqual(self.dialog.lead_id.name, "Sofa leg", "the title typed after /lead")
        self.assertIn("is linked to dialog", reply)
        # posted as text by another client: run, never sent to the customer
        self.conversation.with_user(self.user).message_post(
            body=Markup("/ticket"), message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(self.dialog.task_id)
        self.assertNotIn("/ticket", self.bot_texts(self.dialog))
