from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import ClientCase


@tagged("chatbot", "post_install", "-at_install")
class TestAccess(ClientCase):
    def test_users_read_steps_managers_edit_them(self):
        (step,) = self.flow({"step_type": "message", "text": "Hello"})
        self.assertEqual(step.with_user(self.bot_user).text, "Hello")
        with self.assertRaises(AccessError):
            step.with_user(self.bot_user).text = "Changed"
        step.with_user(self.bot_manager).text = "Changed"
        self.assertEqual(step.text, "Changed")
        new = (
            self.env["chatbot.step"]
            .with_user(self.bot_manager)
            .create({"bot_id": self.bot.id, "text": "Bye", "step_type": "end"})
        )
        self.assertEqual(new.position, 2)

    def test_only_managers_open_the_test_page(self):
        with self.assertRaises(AccessError):
            self.bot.with_user(self.bot_user).action_test_flow()
        self.assertEqual(
            self.bot.with_user(self.bot_manager).action_test_flow()["url"], f"/chatbot/test/{self.bot.id}"
        )
        channel = (
            self.env["chatbot.channel"]
            .with_context(active_test=False)
            .search([("bot_id", "=", self.bot.id), ("provider", "=", "browser")])
        )
        self.assertEqual(len(channel), 1)
        self.assertFalse(channel.active, "the test channel stays out of the Channels tab")
        self.bot.action_test_flow()
        self.assertEqual(
            self.env["chatbot.channel"]
            .with_context(active_test=False)
            .search_count([("bot_id", "=", self.bot.id), ("provider", "=", "browser")]),
            1,
            "one test channel per bot",
        )


@tagged("chatbot", "post_install", "-at_install")
class TestFlowRights(ClientCase):
    """What a flow may do is bounded by roles: a Bots administrator cannot grant the flow full rights, and
    no step set through RPC makes the flow write outside the contact and the lead, or run another model's
    action."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bots_admin = new_test_user(
            cls.env, "flow_bots_admin", groups="chatbot_base.chatbot_base_group_admin"
        )
        cls.sysadmin = new_test_user(
            cls.env, "flow_sysadmin", groups="base.group_system,chatbot_base.chatbot_base_group_admin"
        )

    def test_only_system_administrators_make_a_bot_sudo(self):
        with self.assertRaisesRegex(AccessError, "full rights"):
            self.bot.with_user(self.bots_admin).is_sudo = True
        with self.assertRaisesRegex(AccessError, "full rights"):
            self.env["chatbot.bot"].with_user(self.bots_admin).create(
                {"name": "Sudo bot", "bot_type": "client", "is_sudo": True}
            )
        self.assertFalse(self.bot.is_sudo)
        self.bot.with_user(self.sysadmin).is_sudo = True
        self.assertTrue(self.bot.is_sudo)
        self.bot.with_user(self.bots_admin).is_sudo = False  # taking the rights away is always allowed
        self.assertFalse(self.bot.is_sudo)
        self.bot.with_user(self.bots_admin).wait_start_message = False  # the other settings stay theirs

    def test_steps_write_only_into_the_contact_and_the_lead(self):
        login = self.env["ir.model.fields"]._get("res.users", "login")
        with self.assertRaisesRegex(ValidationError, "not a field the flow can write"):
            self.flow({"step_type": "input", "input_type": "text", "partner_field_id": login.id})
        partner_comment = self.env["ir.model.fields"]._get("res.partner", "comment")
        with self.assertRaisesRegex(ValidationError, "not a field the flow can write"):
            self.flow({"step_type": "input", "input_type": "text", "lead_field_id": partner_comment.id})

    def test_a_ticket_action_runs_on_dialogs_only(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "Act on users",
                "model_id": self.env["ir.model"]._get_id("res.users"),
                "state": "code",
                "code": "records.write({'active': False})",
            }
        )
        with self.assertRaisesRegex(ValidationError, "does not run on dialogs"):
            self.flow(
                {"step_type": "create_ticket", "ticket_target": "action", "ticket_action_id": action.id}
            )
