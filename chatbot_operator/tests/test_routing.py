from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestRouting(OperatorCase):
    def test_join_and_leave_from_the_bot(self):
        user = self.users[0]
        bot = self.bot.with_user(user)
        self.assertTrue(bot.is_joined)
        bot.action_leave()
        bot.invalidate_recordset(["is_joined"])
        self.assertFalse(bot.is_joined)
        self.assertFalse(self.operators[0].active, "leaving archives the operator")
        bot.action_join()
        bot.invalidate_recordset(["is_joined"])
        self.assertTrue(bot.is_joined)
        self.assertTrue(self.operators[0].active, "joining again reuses the operator")

    def test_waits_for_start_then_routes(self):
        dialog = self.start(1001, text="hello")
        self.assertEqual(dialog.state, "bot")
        self.assertEqual(self.texts_to(dialog), ["Press /start to talk."])
        dialog = self.say(1001, "/start", 2)
        self.assertEqual(dialog.state, "active")
        self.assertEqual(dialog.operator_id, self.operators[0], "all idle: the one idle longest (never used)")
        self.assertEqual(
            self.texts_to(dialog)[1:],
            [
                "Operator 1 connected to chat. Please start messaging!",
                "If you would like to end your consultation Press: /end",
            ],
        )

    def test_without_wait_for_start_the_first_message_routes(self):
        self.bot.wait_start_message = False
        dialog = self.start(1001, text="I need help")
        self.assertEqual(dialog.state, "active")

    def test_fewest_active_dialogs_then_idle_longest(self):
        first = self.start(1001)
        second = self.start(1002)
        third = self.start(1003)
        self.assertEqual(
            (first | second | third).operator_id, self.operators, "three customers, three idle operators"
        )
        first._chatbot_end("customer")
        fourth = self.start(1004)
        self.assertEqual(fourth.operator_id, first.operator_id, "the only one with no dialog")
        fifth = self.start(1005)
        self.assertEqual(
            fifth.operator_id, second.operator_id, "all have one: the one who took a dialog longest ago"
        )
        self.assertEqual(self.operators.mapped("active_dialog_count"), [1, 2, 1])

    def test_never_above_max_parallel_chats_then_queue_with_position(self):
        dialogs = [self.start(1000 + i) for i in range(6)]
        self.assertEqual(self.operators.mapped("active_dialog_count"), [2, 2, 2])
        waiting = [self.start(2000 + i) for i in range(2)]
        self.assertEqual([d.state for d in waiting], ["waiting", "waiting"])
        self.assertEqual(
            self.texts_to(waiting[1]),
            ["All operators are busy. You are number 2 in the queue."],
        )
        dialogs[0]._chatbot_end("customer")
        self.assertEqual(waiting[0].state, "active", "the first waiting customer gets the freed operator")
        self.assertEqual(waiting[0].operator_id, dialogs[0].operator_id)
        self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(
            self.texts_to(waiting[1])[-1],
            "All operators are busy. You are number 1 in the queue.",
            "told again when the position changes",
        )
        self.env["chatbot.dialog"]._cron_operator_queue()
        self.assertEqual(len(self.texts_to(waiting[1])), 2, "not told twice the same position")

    def test_no_active_operator_gets_no_operator_text_and_waits(self):
        self.operators.write({"status": "inactive"})
        dialog = self.start(1001)
        self.assertEqual(dialog.state, "waiting")
        self.assertEqual(self.texts_to(dialog), ["Sorry, no operator available"])
        self.operators[1].status = "active"
        self.assertEqual(dialog.state, "active", "taken as soon as an operator becomes Active")
        self.assertEqual(dialog.operator_id, self.operators[1])

    def test_inactive_after_last_logout_and_back_at_login(self):
        Operator = self.env["chatbot.operator"]
        Operator._chatbot_on_logout(self.users[0])
        self.assertEqual(self.operators[0].status, "inactive")
        self.assertEqual(self.start(1001).operator_id, self.operators[1])
        Operator._chatbot_on_login(self.users[0])
        self.assertEqual(self.operators[0].status, "active")
        # an operator who chose Inactive stays Inactive after logging out and in
        Operator.with_user(self.users[1]).chatbot_set_my_status("inactive")
        Operator._chatbot_on_logout(self.users[1])
        Operator._chatbot_on_login(self.users[1])
        self.assertEqual(self.operators[1].status, "inactive")

    def test_systray_status(self):
        Operator = self.env["chatbot.operator"].with_user(self.users[2])
        self.assertEqual(Operator.chatbot_get_my_status()["status"], "active")
        self.assertEqual(Operator.chatbot_set_my_status("inactive")["status"], "inactive")
        self.assertEqual(self.operators[2].status, "inactive")
        with self.assertRaises(ValueError):
            Operator.chatbot_set_my_status("away")
        # Active, but at the chat limit: the headset says why no dialog comes
        Operator.chatbot_set_my_status("active")
        self.operators[2].active_dialog_count = self.bot.max_parallel_chats
        status = Operator.chatbot_get_my_status()
        self.assertEqual(
            (status["availability"], status["availability_label"]), ("full", "Chat limit reached")
        )

    def test_my_clients_first_and_only(self):
        salesperson = self.users[2]
        restricted = self.operators[2]
        restricted.write({"only_my_clients": True})
        self.assertEqual(restricted.salesperson_id, salesperson, "the operator's own user by default")
        # a client of Operator 3 goes to them although others are as free
        self.receive(
            1, chat=3003, text="hi", user={"id": 3003, "name": "Client of 3", "phone": "+380671112233"}
        )
        dialog = self.dialog_of(3003)
        dialog.partner_id.user_id = salesperson
        self.say(3003, "/start", 2)
        self.assertEqual(dialog.operator_id, restricted)
        # someone else's customer never goes to Operator 3, even when the others are full
        others = [self.start(1000 + i) for i in range(4)]
        self.assertNotIn(restricted, [d.operator_id for d in others])
        extra = self.start(1100)
        self.assertEqual(extra.state, "waiting", "Operator 3 has room but serves only their clients")
        # and Operator 3 sees only their clients' dialogs
        visible = self.env["chatbot.dialog"].with_user(salesperson).search([("bot_id", "=", self.bot.id)])
        self.assertEqual(visible, dialog)
        self.assertIn(extra, self.env["chatbot.dialog"].with_user(self.users[0]).search([]))

    def test_odoo_operators_only_skips_messenger_operators(self):
        self.bot.odoo_operators_only = True
        self.operators.write({"status": "inactive"})
        self.receive(1, chat=5005, text="/start")
        messenger = self.env["chatbot.operator"].create(
            {"bot_id": self.bot.id, "sender_id": self.dialog_of(5005).sender_id.id}
        )
        self.assertFalse(self.bot._chatbot_pick_operator())
        self.bot.odoo_operators_only = False
        self.assertEqual(self.bot._chatbot_pick_operator(), messenger)

    def test_routing_costs_the_same_queries_whatever_the_number_of_dialogs(self):
        self.bot.max_parallel_chats = 1000
        partner = self.env["res.partner"].create({"name": "Someone"})
        self.bot._chatbot_pick_operator(partner)  # warm the caches
        with self.assertQueryCount(2):  # flush_all has nothing to write; the routing query
            self.bot._chatbot_pick_operator(partner)
        sender = self.start(1001).sender_id
        self.env["chatbot.dialog"].create(
            [
                {
                    "bot_id": self.bot.id,
                    "sender_id": sender.id,
                    "operator_id": self.operators[i % 3].id,
                    "state": "closed",
                }
                for i in range(300)
            ]
        )
        self.operators._chatbot_update_load()
        self.bot._chatbot_pick_operator(partner)
        with self.assertQueryCount(2):
            self.bot._chatbot_pick_operator(partner)
