from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.chatbot_base.tests.common import set_online

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestConversation(OperatorCase):
    def setUp(self):
        super().setUp()
        self.receive(1, chat=1001, text="Hello, my order is late", user={"id": 1001, "name": "Olena"})
        self.dialog = self.say(1001, "/start", 2)
        self.operator = self.dialog.operator_id
        self.user = self.operator.user_id
        self.channel_d = self.dialog.discuss_channel_id

    def bodies(self):
        return [
            (m.author_id.name, m.body.striptags() if hasattr(m.body, "striptags") else m.body)
            for m in self.channel_d.message_ids.sorted("id")
            if m.message_type == "comment"
        ]

    def test_conversation_has_the_operator_the_customer_and_the_history(self):
        self.assertTrue(self.channel_d, "an Odoo operator gets a Discuss conversation")
        livechat = self.env["ir.module.module"]._get("chatbot_livechat").state == "installed"
        # with chatbot_livechat a live chat session, so that it pops up; else a group conversation
        self.assertEqual(self.channel_d.channel_type, "livechat" if livechat else "group")
        self.assertEqual(
            set(self.channel_d.channel_member_ids.partner_id.ids),
            {self.user.partner_id.id, self.dialog.partner_id.id},
        )
        authors = [a for a, _b in self.bodies()]
        texts = [b for _a, b in self.bodies()]
        self.assertEqual(texts[:3], ["Hello, my order is late", "Press /start to talk.", "/start"])
        self.assertEqual(authors[0], "Olena", "the customer's messages are theirs")
        self.assertIn("If you would like to end your consultation Press: /end", texts)

    def test_customer_message_appears_live_and_edits_follow(self):
        self.say(1001, "Order 42", 3)
        self.assertEqual(self.bodies()[-1], ("Olena", "Order 42"))
        self.receive(4, chat=1001, kind="edit", message_id=3, text="Order 43")
        last = self.channel_d.message_ids.sorted("id")[-1]
        self.assertIn("Order 43", str(last.body))
        self.assertIn("edited", str(last.body))

    def test_operator_answer_in_discuss_reaches_the_customer(self):
        self.channel_d.with_user(self.user).message_post(
            body="We are on it!", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        sent = self.dialog.message_ids.filtered(lambda m: m.author_kind == "operator")
        self.assertEqual(sent.mapped("body"), ["We are on it!"])
        self.assertEqual(sent.author_user_id, self.user)
        self.assertTrue(self.dialog.first_reply_date)
        self.assertIn("We are on it!", self.send_all())
        # posted once in the conversation: no echo of the operator's own message
        self.assertEqual([b for _a, b in self.bodies()].count("We are on it!"), 1)

    def test_only_the_operator_answers(self):
        other = self.users[1] if self.users[1] != self.user else self.users[0]
        self.channel_d.sudo()._add_members(users=other)
        with self.assertRaises(AccessError):
            self.channel_d.with_user(other).message_post(
                body="Not mine", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_customer_end_closes_with_completion_text(self):
        self.say(1001, "/end", 5)
        self.assertEqual(self.dialog.state, "closed")
        self.assertEqual(self.dialog.close_reason, "customer")
        self.assertEqual(self.texts_to(self.dialog)[-1], "Consultation completed")
        self.assertEqual(self.operator.active_dialog_count, 0)
        with self.assertRaises(UserError):
            self.channel_d.with_user(self.user).message_post(
                body="Still there?", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_close_command_in_the_conversation(self):
        self.channel_d.with_user(self.user).chatbot_execute_command("close", "/close")
        self.assertEqual(self.dialog.state, "closed")
        self.assertEqual(self.dialog.close_reason, "operator")
        self.assertEqual(self.texts_to(self.dialog)[-1], "Consultation completed")

    def test_transfer_keeps_the_history_and_moves_the_conversation(self):
        target = (self.operators - self.operator)[0]
        self.channel_d.with_user(self.user).chatbot_execute_command("transfer", f"/transfer {target.name}")
        # seed 002: the dialog ends as transferred, a child dialog carries it on with the new operator
        child = self.dialog.child_ids
        self.assertEqual((self.dialog.state, self.dialog.close_reason), ("closed", "transfer"))
        self.assertEqual((child.state, child.operator_id, child.parent_id), ("active", target, self.dialog))
        self.assertEqual(child.discuss_channel_id, self.channel_d, "same conversation, same history")
        self.assertEqual(self.channel_d.chatbot_dialog_id, child, "what is written there goes to the child")
        self.assertEqual(self.channel_d.name, f"{child.code} · Olena")
        self.assertEqual(child._chatbot_history()[:1].body, "Hello, my order is late", "the whole history")
        # the customer's next message goes to the child, and the new operator answers them
        self.say(1001, "Thanks", 7)
        self.assertEqual(child.message_ids.mapped("body"), ["Thanks"])
        self.assertEqual(self.bodies()[-1], ("Olena", "Thanks"))
        self.channel_d.with_user(target.user_id).message_post(
            body="Sofia here", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(child.message_ids.filtered(lambda m: m.author_kind == "operator").body, "Sofia here")
        members = self.channel_d.channel_member_ids.partner_id
        self.assertIn(target.user_id.partner_id, members)
        self.assertNotIn(self.user.partner_id, members)
        self.assertEqual(self.operator.active_dialog_count, 0)
        self.assertEqual(target.active_dialog_count, 1)
        # the greeting is not sent again
        greetings = [t for t in self.texts_to(self.dialog) if "connected to chat" in t]
        self.assertEqual(len(greetings), 1)

    def test_a_command_posted_as_a_message_is_run_never_sent(self):
        # the web client runs /close itself; another client (the mobile app, a script) posts it as text
        self.channel_d.with_user(self.user).message_post(
            body="/close", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual((self.dialog.state, self.dialog.close_reason), ("closed", "operator"))
        sent = self.send_all()
        self.assertNotIn("/close", sent)
        self.assertEqual(self.texts_to(self.dialog)[-1], "Consultation completed")

    def test_transfer_without_a_name_lists_the_operators_and_sends_nothing(self):
        before = self.texts_to(self.dialog)
        with patch.object(type(self.env["res.users"]), "_bus_send_transient_message") as told:
            self.channel_d.with_user(self.user).message_post(
                body="/transfer", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self.assertEqual(self.dialog.operator_id, self.operator, "nobody chosen: it stays")
        reply = told.call_args.args[1]
        self.assertIn("Write /transfer and an operator's name.", reply)
        for other in self.operators - self.operator:
            self.assertIn(other.name, reply)
        self.assertEqual(self.texts_to(self.dialog), before, "the customer gets nothing")

    def test_an_unknown_slash_text_is_an_answer(self):
        self.channel_d.with_user(self.user).message_post(
            body="/10 is the code", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(self.texts_to(self.dialog)[-1], "/10 is the code")

    # --- transfer (seed 002)

    def transfer_form(self, user=None, **values):
        return (
            self.env["chatbot.transfer"]
            .with_user(user or self.user)
            .create({"dialog_id": self.dialog.id, **values})
        )

    def test_transfer_form_lists_every_operator_with_their_state(self):
        busy, off = self.operators - self.operator
        busy.active_dialog_count = 2  # the bot's max parallel chats
        off.status = "inactive"
        form = self.transfer_form()
        mine = form.candidate_ids.filtered(lambda o: o.bot_id == self.bot)
        self.assertEqual(mine, busy | off, "everyone but the dialog's operator")
        self.assertEqual(
            [(o.name, o.availability) for o in mine.sorted("id")],
            [(busy.name, "full"), (off.name, "inactive")],
        )
        self.assertEqual(form.choosable_ids.filtered(lambda o: o.bot_id == self.bot), off)
        form.operator_id = busy
        with self.assertRaisesRegex(UserError, "Chat limit reached"):
            form.action_transfer()
        self.assertEqual(self.dialog.operator_id, self.operator)
        # seed 002: an Inactive operator may be chosen (they see the chats they were given)
        form.operator_id = off
        form.action_transfer()
        self.assertEqual(self.dialog.child_ids.operator_id, off)

    def test_transfer_to_an_operator_tells_the_customer_and_leaves_the_note(self):
        target = (self.operators - self.operator)[0]
        self.transfer_form(operator_id=target.id, note="Wants a refund for order 42").action_transfer()
        child = self.dialog.child_ids
        self.assertEqual((child.operator_id, child.transfer_count), (target, 1))
        self.assertEqual(child.transfer_note, "Wants a refund for order 42")
        self.assertIn(
            "We are passing you to another consultant. Please wait a moment.", self.texts_to(self.dialog)
        )
        notes = self.channel_d.message_ids.filtered(lambda m: "Wants a refund for order 42" in str(m.body))
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes.subtype_id, self.env.ref("mail.mt_note"), "a note: never sent to the customer")
        self.assertNotIn("Wants a refund", " ".join(self.send_all()))

    def sales_desk(self):
        """Another department: a consultation bot with one online operator, Sofia."""
        sales = self.env["chatbot.bot"].create({"name": "Sales desk", "bot_type": "operator"})
        seller = new_test_user(
            self.env,
            "seller",
            name="Sofia Seller",
            groups="base.group_user,chatbot_base.chatbot_base_group_user",
        )
        set_online(seller)
        sales.with_user(seller).action_join()
        return sales, seller

    def test_transfer_to_the_queue_of_another_department(self):
        sales, seller = self.sales_desk()
        self.transfer_form(target="queue", operator_bot_id=sales.id).action_transfer()
        child = self.dialog.child_ids
        self.assertEqual((self.dialog.state, self.dialog.operator_bot_id), ("closed", self.bot))
        self.assertEqual(
            (child.state, child.operator_bot_id, child.operator_id.user_id), ("active", sales, seller)
        )
        self.assertEqual(self.operator.active_dialog_count, 0, "the first operator is free again")
        members = self.channel_d.channel_member_ids.partner_id
        self.assertIn(seller.partner_id, members, "the same conversation, with the whole history")
        self.assertNotIn(self.user.partner_id, members)
        self.assertIn("Hello, my order is late", [b for _a, b in self.bodies()])

    def test_transfer_to_a_queue_with_nobody_free_waits_and_tells_the_position(self):
        sales, seller = self.sales_desk()
        sales.operator_ids.status = "inactive"
        child = self.dialog.with_user(self.user).action_transfer_to_queue(sales)
        self.assertEqual(
            (child.state, child.operator_id.id, child.parent_id), ("waiting", False, self.dialog)
        )
        self.assertEqual(self.operator.active_dialog_count, 0)
        self.assertEqual(self.texts_to(self.dialog)[-1], "Sorry, no operator available")
        self.say(1001, "Anyone?", 9)
        self.assertEqual(child.message_ids.mapped("body"), ["Sorry, no operator available", "Anyone?"])
        sales.operator_ids.with_user(seller).chatbot_set_my_status("active")
        self.assertEqual(child.operator_id.user_id, seller)
        self.assertIn("Anyone?", [b for _a, b in self.bodies()], "what the customer wrote while waiting")

    def busy_with_a_queue(self):
        """Every Active operator full (two of them, two dialogs each), the third one Inactive, and two
        customers waiting in order."""
        spare = (self.operators - self.operator)[-1]
        spare.status = "inactive"
        for chat in (2001, 2002, 2003):
            self.start(chat)
        waiting = [self.start(2101), self.start(2102)]
        self.assertEqual([d.state for d in waiting], ["waiting", "waiting"])
        return spare, waiting

    def test_a_transfer_frees_a_place_for_the_head_of_the_queue_at_once(self):
        spare, (first, second) = self.busy_with_a_queue()
        child = self.dialog.with_user(self.user).action_transfer(spare)
        self.assertEqual(child.operator_id, spare)
        self.assertEqual((first.state, first.operator_id), ("active", self.operator), "not at the next cron")
        self.assertEqual(second.state, "waiting")

    def test_a_transfer_to_the_own_queue_goes_last_and_not_back(self):
        _spare, (first, second) = self.busy_with_a_queue()
        child = self.dialog.with_user(self.user).action_transfer_to_queue(self.bot)
        self.assertEqual(
            (first.state, first.operator_id), ("active", self.operator), "first come, first served"
        )
        self.assertEqual((second.state, child.state), ("waiting", "waiting"))
        self.assertEqual(child._chatbot_queue_position(), 2, "behind who waited before")
        self.assertEqual(child.declined_operator_ids, self.operator)
        first.action_end()
        self.assertEqual(second.operator_id, self.operator)
        second.action_end()
        self.assertEqual(child.state, "waiting", "never back to the operator who handed it on")

    def test_a_user_cannot_transfer_someone_elses_dialog(self):
        other = self.users[1] if self.users[1] != self.user else self.users[0]
        target = self.operators.filtered(lambda o: o.user_id == other)
        with self.assertRaises(AccessError):
            self.transfer_form(user=other, operator_id=target.id).action_transfer()

    def test_user_cannot_close_someone_elses_dialog(self):
        other = self.users[1] if self.users[1] != self.user else self.users[0]
        with self.assertRaises(AccessError):
            self.dialog.with_user(other).action_end()
        self.dialog.with_user(self.bot_manager).action_end()
        self.assertEqual(self.dialog.state, "closed")

    def test_live_chat_starts_a_new_dialog_after_the_end(self):
        self.dialog.with_user(self.user).action_end()
        action = self.dialog.with_user(self.user).action_live_chat()
        new = self.dialog_of(1001)
        self.assertNotEqual(new, self.dialog)
        self.assertEqual(new.state, "active")
        self.assertEqual(new.operator_id, self.operator)
        self.assertEqual(action["params"]["active_id"], f"discuss.channel_{new.discuss_channel_id.id}")

    def test_send_message_form(self):
        wizard = (
            self.env["chatbot.send.message"]
            .with_user(self.bot_user)
            .create({"sender_id": self.dialog.sender_id.id, "text": "A note from the shop"})
        )
        wizard.action_send()
        self.assertEqual(self.texts_to(self.dialog)[-1], "A note from the shop")
        self.assertIn("A note from the shop", self.send_all())
