import json

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.chatbot_base.tests.common import fake_messenger, set_online


@tagged("chatbot", "post_install", "-at_install")
class TestClientUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = cls.enterClassContext(fake_messenger())
        cls.manager = new_test_user(
            cls.env,
            "flow_author",
            name="Flow Author",
            groups="base.group_user,chatbot_base.chatbot_base_group_manager",
        )
        cls.operator_bot = cls.env["chatbot.bot"].create(
            {"name": "Tour consultations", "bot_type": "operator"}
        )
        cls.bot = cls.env["chatbot.bot"].create(
            {"name": "Tour shop", "bot_type": "client", "operator_bot_id": cls.operator_bot.id}
        )
        cls.env["chatbot.channel"].create({"name": "Fake", "bot_id": cls.bot.id, "provider": "fake"})

    def test_build_a_flow_in_the_ui_then_run_it(self):
        self.start_tour(
            "/odoo/action-chatbot_base.chatbot_bot_action",
            "chatbot_client_build_flow_tour",
            login="flow_author",
        )
        steps = self.bot._chatbot_flow_steps()
        self.assertEqual(steps.mapped("step_type"), ["message", "question"])
        self.assertEqual(steps[1].answer_ids.mapped("name"), ["Buy", "Ask"])
        channel = self.bot.channel_ids
        self.env["chatbot.inbound"].browse(
            channel._chatbot_store_inbound({"id": 1, "chat": 77, "text": "/start"})
        )._process_one()
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)])
        self.assertEqual(
            dialog.message_ids.filtered(lambda m: m.direction == "out").sorted("id").mapped("body"),
            ["Hello from the tour shop!", "Buy or ask?"],
        )

    def rpc(self, route, **params):
        response = self.url_open(
            f"/chatbot/test/{self.bot.id}/{route}",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def test_the_test_page_plays_the_flow(self):
        question = self.env["chatbot.step"].create(
            {
                "bot_id": self.bot.id,
                "step_type": "question",
                "text": "Buy or ask?",
                "answer_ids": [(0, 0, {"name": "Buy"})],
            }
        )
        self.env["chatbot.step"].create(
            {"bot_id": self.bot.id, "step_type": "end", "text": "Bye, {name}", "sequence": 20}
        )
        self.bot.wait_start_message = True
        self.authenticate("flow_author", "flow_author")
        page = self.url_open(f"/chatbot/test/{self.bot.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Test: Tour shop", page.text)
        self.assertEqual(self.rpc("send", text="/start")["result"]["state"], "done")
        result = self.rpc("messages", after=0)["result"]
        self.assertEqual(result["state"], "bot")
        texts = [(m["direction"], m["text"]) for m in result["messages"]]
        self.assertEqual(texts, [("in", "/start"), ("out", "Buy or ask?")])
        button = result["messages"][-1]["buttons"][0][0]
        self.assertEqual(button["label"], "Buy")
        self.rpc("send", button=button["data"], text="Buy")
        result = self.rpc("messages", after=result["messages"][-1]["id"])["result"]
        self.assertEqual(result["messages"][-1]["text"], "Bye, Flow Author (test)")
        self.assertEqual(result["state"], "closed")
        self.assertEqual(question.bot_id.channel_ids.provider, "fake", "the test channel is not listed")

    def test_users_cannot_open_the_test_page(self):
        new_test_user(self.env, "flow_reader", groups="base.group_user,chatbot_base.chatbot_base_group_user")
        self.authenticate("flow_reader", "flow_reader")
        response = self.rpc("send", text="/start")
        self.assertIn("Only Bots managers test bot flows.", response["error"]["data"]["message"])
        self.assertFalse(self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)]))

    def test_operator_makes_a_ticket_and_a_lead_from_the_conversation(self):
        operator = new_test_user(
            self.env,
            "case_operator",
            name="Case Operator",
            groups="base.group_user,chatbot_base.chatbot_base_group_user,sales_team.group_sale_salesman,"
            "project.group_project_user",
        )
        self.operator_bot.with_user(operator).action_join()
        self.operator_bot.ticket_project_id = self.env["project.project"].create({"name": "Support desk"})
        set_online(operator)
        channel = self.bot.channel_ids
        for n, text in enumerate(["My sofa arrived broken", "The left leg is missing"], start=1):
            self.env["chatbot.inbound"].browse(
                channel._chatbot_store_inbound(
                    {"id": f"c{n}", "chat": 88, "user": {"id": 88, "name": "Marta"}, "text": text}
                )
            )._process_one()
        dialog = self.env["chatbot.dialog"].search([("bot_id", "=", self.bot.id)], order="id desc", limit=1)
        dialog._chatbot_request_operator()
        self.assertEqual(dialog.operator_id.user_id, operator)

        self.start_tour("/odoo/discuss", "chatbot_client_chat_actions_tour", login="case_operator")
        self.assertEqual(dialog.task_id.name, "My sofa arrived broken")
        self.assertEqual((dialog.lead_id.name, dialog.lead_id.user_id), ("My sofa arrived broken", operator))
        self.assertEqual(dialog.lead_id.source_id.name, "Chat")
        self.env["chatbot.outbound"]._send_channel(channel, time_budget=10)
        self.assertFalse([m.text for m in self.fake.sent if (m.text or "").startswith("/")])
