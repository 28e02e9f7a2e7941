from datetime import timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from odoo.addons.chatbot_base.models.chatbot_outbound import _Pacer
from odoo.addons.chatbot_base.tools.connector import ConnectorError, RecipientBlocked, RetryLater
from odoo.addons.sms.tests.common import SMSCase

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestBroadcast(OperatorCase, SMSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Broadcast = cls.env["chatbot.broadcast"]
        cls.partners = cls.env["res.partner"].create(
            [
                {"name": f"Customer {i}", "phone": f"+38067123450{i}", "city": "Kyiv" if i % 2 else "Lviv"}
                for i in range(5)
            ]
        )
        cls.senders = cls.env["chatbot.sender"].create(
            [
                {
                    "name": partner.name,
                    "channel_id": cls.channel.id,
                    "external_id": str(5000 + i),
                    "chat_id": str(5000 + i),
                    "partner_id": partner.id,
                }
                for i, partner in enumerate(cls.partners)
            ]
        )
        cls.template = cls.env["sms.template"].create(
            {
                "name": "Sale",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "body": "Hello {{ object.name }}, spring sale!",
            }
        )

    def new_broadcast(self, **values):
        return self.Broadcast.with_user(self.bot_manager).create(
            {"name": "Spring sale", "bot_id": self.bot.id, "body": "Spring sale!", **values}
        )

    def run_broadcasts(self):
        """The broadcast cron, then the outbound queue until it is empty (it takes the next recipients)."""
        self.Broadcast._cron_send(time_budget=5)
        self.Outbound._send_channel(self.channel, time_budget=5)
        self.Broadcast._cron_send(time_budget=5)
        self.env.invalidate_all()  # the totals are read again, as the next request of the form would

    def sent_chats(self):
        return [message.chat_id for message in self.fake.sent]

    # ------------------------------------------------------------------------------------------
    # The form
    # ------------------------------------------------------------------------------------------

    def test_send_broadcast_button_opens_a_form_for_the_bot(self):
        action = self.bot.with_user(self.bot_manager).action_chatbot_broadcast()
        self.assertEqual(action["res_model"], "chatbot.broadcast")
        form = Form(self.Broadcast.with_user(self.bot_manager).with_context(**action["context"]))
        self.assertEqual(form.bot_id, self.bot)
        self.assertEqual(form.recipient_count, 5, "every sender of the bot by default")
        form.name = "Spring sale"
        form.recipient_domain = "[('partner_id.city', '=', 'Kyiv')]"
        self.assertEqual(form.recipient_count, 2, "the count follows the filter at once")
        form.sms_template_id = self.template
        self.assertEqual(form.body, "Hello {{ object.name }}, spring sale!", "the template's body is used")
        broadcast = form.save()
        self.assertEqual(broadcast.state, "draft")
        self.assertEqual(broadcast.recipient_count, 2)

    def test_opted_out_senders_are_not_counted(self):
        self.senders[0].broadcast_optout = True
        self.assertEqual(self.new_broadcast().recipient_count, 4)

    def test_bad_inputs_get_clear_errors(self):
        with self.assertRaisesRegex(ValidationError, "cannot be read"):
            self.new_broadcast(recipient_domain="[('partner_id.city', '=', ")
        with self.assertRaisesRegex(ValidationError, "not valid"):
            self.new_broadcast(recipient_domain="[('no_such_field', '=', 1)]")
        with self.assertRaisesRegex(ValidationError, "needs a link"):
            self.new_broadcast(button_ids=[(0, 0, {"label": "Shop", "button_type": "url", "url": "shop"})])
        with self.assertRaisesRegex(ValidationError, "longer than 64"):
            self.new_broadcast(button_ids=[(0, 0, {"label": "x" * 65, "button_type": "optout"})])
        with self.assertRaisesRegex(UserError, "has no message"):
            self.new_broadcast(body=False).action_send()
        with self.assertRaisesRegex(UserError, "No recipient matches"):
            self.new_broadcast(recipient_domain="[('name', '=', 'nobody')]").action_send()
        with self.assertRaisesRegex(ValidationError, "4096"):
            self.new_broadcast(body="x" * 4097)
        broadcast = self.new_broadcast()
        broadcast.action_send()
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            broadcast.body = "Other"
        with self.assertRaisesRegex(UserError, "already sent"):
            broadcast.action_send()
        self.assertEqual(broadcast.body, "Spring sale!", "nothing lost")

    # ------------------------------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------------------------------

    def test_broadcast_reaches_each_recipient_once_with_states_and_totals(self):
        self.senders[1].is_blocked = True
        self.senders[4].broadcast_optout = True
        broadcast = self.new_broadcast(
            button_ids=[
                (0, 0, {"label": "Shop", "button_type": "url", "url": "https://shop.example"}),
                (0, 0, {"label": "Stop", "button_type": "optout"}),
            ]
        )
        broadcast.action_send()
        self.assertEqual(broadcast.state, "sending")
        self.assertEqual(broadcast.total_count, 4, "opted out: not a recipient")
        self.assertEqual((broadcast.queued_count, broadcast.blocked_count), (3, 1))
        self.fake.script = [None, RecipientBlocked("Forbidden: bot was blocked by the user")]
        self.fake.script.append(ConnectorError("Bad Request: chat not found"))
        self.run_broadcasts()
        self.assertEqual(sorted(self.sent_chats()), ["5000"])
        message = self.fake.sent[0]
        self.assertEqual(message.text, "Spring sale!")
        self.assertEqual(
            [(row[0].label, row[0].url, row[0].data) for row in message.buttons],
            [("Shop", "https://shop.example", ""), ("Stop", "", "bc:stop")],
        )
        states = {r.sender_id: (r.state, r.error) for r in broadcast.recipient_ids}
        self.assertEqual(states[self.senders[0]][0], "sent")
        self.assertEqual(states[self.senders[1]][0], "blocked")
        self.assertEqual(states[self.senders[2]], ("blocked", "Forbidden: bot was blocked by the user"))
        self.assertEqual(states[self.senders[3]], ("failed", "Bad Request: chat not found"))
        self.assertTrue(self.senders[2].is_blocked)
        self.assertEqual(
            (broadcast.sent_count, broadcast.failed_count, broadcast.blocked_count, broadcast.queued_count),
            (1, 1, 2, 0),
        )
        self.assertEqual(broadcast.progress, 100.0)
        self.assertEqual(broadcast.state, "done")
        self.run_broadcasts()
        self.assertEqual(len(self.fake.sent), 1, "nothing is sent twice")

    def test_feeding_twice_queues_each_recipient_once(self):
        broadcast = self.new_broadcast()
        broadcast.action_send()
        self.assertEqual(self.Broadcast._chatbot_feed(self.channel, 3), 3)
        self.assertEqual(self.Broadcast._chatbot_feed(self.channel, 100), 2)
        self.assertEqual(self.Broadcast._chatbot_feed(self.channel, 100), 0)
        rows = self.Outbound.search([("broadcast_recipient_id", "in", broadcast.recipient_ids.ids)])
        self.assertEqual(len(rows), 5)
        self.assertEqual(rows.broadcast_recipient_id, broadcast.recipient_ids)
        self.assertEqual(set(broadcast.recipient_ids.mapped("state")), {"queued"})
        for recipient in broadcast.recipient_ids:
            self.assertEqual(recipient.outbound_id.broadcast_recipient_id, recipient)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.env["chatbot.broadcast.recipient"].create(
                {"broadcast_id": broadcast.id, "sender_id": self.senders[0].id}
            )

    def test_a_broadcast_never_stands_in_front_of_replies(self):
        self.new_broadcast().action_send()
        dialog = self.start(1001)
        self.Outbound._send_channel(self.channel, time_budget=5)
        chats = self.sent_chats()
        self.assertLess(chats.index("1001"), chats.index("5000"), "the customer's reply goes first")
        self.assertEqual(len(chats), 5 + len(self.texts_to(dialog)))

    def test_429_keeps_the_recipient_queued_and_holds_the_channel(self):
        broadcast = self.new_broadcast()
        broadcast.action_send()
        self.fake.script = [None, RetryLater("Too Many Requests: retry after 7", 7)]
        self.run_broadcasts()
        self.assertEqual(len(self.fake.sent), 1)
        self.assertEqual(broadcast.sent_count, 1)
        self.assertEqual(broadcast.queued_count, 4)
        self.assertGreater(self.channel.hold_until, fields.Datetime.now() + timedelta(seconds=5))
        self.assertEqual(broadcast.state, "sending")
        self.channel.hold_until = False
        self.run_broadcasts()
        self.assertEqual(sorted(self.sent_chats()), sorted(self.senders.mapped("chat_id")))
        self.assertEqual(broadcast.state, "done")

    def test_cancel_and_resume(self):
        broadcast = self.new_broadcast()
        broadcast.action_send()
        self.Broadcast._chatbot_feed(self.channel, 2)
        broadcast.with_user(self.bot_manager).action_cancel()
        self.assertEqual(broadcast.state, "cancelled")
        self.assertEqual(broadcast.cancelled_count, 5)
        self.Outbound._send_channel(self.channel, time_budget=5)
        self.assertFalse(self.fake.sent, "a cancelled broadcast sends nothing")
        with self.assertRaisesRegex(UserError, "Only a cancelled"):
            self.new_broadcast().action_resume()
        broadcast.with_user(self.bot_manager).action_resume()
        self.assertEqual(broadcast.state, "sending")
        self.run_broadcasts()
        self.assertEqual(sorted(self.sent_chats()), sorted(self.senders.mapped("chat_id")))
        self.assertEqual((broadcast.sent_count, broadcast.state), (5, "done"))

    def test_cancel_in_the_middle_then_resume_sends_nobody_twice(self):
        broadcast = self.new_broadcast()
        broadcast.action_send()
        self.Broadcast._chatbot_feed(self.channel, 2)
        # send the first two only, in one round: the queue would take more, so its run is not used here
        first_two = self.Outbound.search([("broadcast_recipient_id", "!=", False)], order="id")
        self.assertEqual(len(first_two), 2)
        connector = self.channel._chatbot_connector()
        self.Outbound._send_round(
            first_two.ids, connector, _Pacer(connector.rate_limits(), connector.is_group_chat)
        )
        self.env.invalidate_all()
        self.assertEqual(broadcast.sent_count, 2)
        broadcast.action_cancel()
        self.assertEqual((broadcast.sent_count, broadcast.cancelled_count), (2, 3))
        broadcast.action_resume()
        self.run_broadcasts()
        self.assertEqual(sorted(self.sent_chats()), sorted(self.senders.mapped("chat_id")))

    def test_scheduled_broadcast_starts_at_its_time(self):
        broadcast = self.new_broadcast(scheduled_date=fields.Datetime.now() + timedelta(hours=2))
        broadcast.action_send()
        self.assertEqual(broadcast.state, "scheduled")
        self.run_broadcasts()
        self.assertFalse(self.fake.sent)
        self.assertFalse(broadcast.recipient_ids)
        with freeze_time(fields.Datetime.now() + timedelta(hours=3)):
            self.run_broadcasts()
        self.assertEqual(broadcast.state, "done")
        self.assertEqual(len(self.fake.sent), 5)

    # ------------------------------------------------------------------------------------------
    # Opting out
    # ------------------------------------------------------------------------------------------

    def test_stop_command_opts_out_with_a_confirmation(self):
        dialog = self.start(1001, text="/stop")
        sender = dialog.sender_id
        self.assertTrue(sender.broadcast_optout)
        self.assertEqual(self.texts_to(dialog), ["You will get no more broadcasts from us."])
        broadcast = self.new_broadcast()
        self.assertNotIn(sender, self.env["chatbot.sender"].search(broadcast._chatbot_sender_domain()))
        broadcast.action_send()
        self.assertNotIn(sender, broadcast.recipient_ids.sender_id)

    def test_stop_button_opts_out_and_skips_the_rest_of_a_running_broadcast(self):
        broadcast = self.new_broadcast()
        broadcast.action_send()
        self.receive(777, chat=5003, kind="button", button="bc:stop", user={"id": 5003, "name": "Customer 3"})
        self.assertTrue(self.senders[3].broadcast_optout)
        self.run_broadcasts()
        self.assertNotIn("5003", [m.chat_id for m in self.fake.sent if m.text == "Spring sale!"])
        recipient = broadcast.recipient_ids.filtered(lambda r: r.sender_id == self.senders[3])
        self.assertEqual(recipient.state, "optout")
        self.assertEqual(broadcast.optout_count, 1)

    def test_stop_works_while_talking_to_an_operator(self):
        dialog = self.start(1001)
        self.assertEqual(dialog.state, "active")
        self.say(1001, "/stop", 1001_01)
        self.assertTrue(dialog.sender_id.broadcast_optout)
        self.assertEqual(dialog.state, "active", "the consultation goes on")

    # ------------------------------------------------------------------------------------------
    # SMS for those the messenger cannot reach
    # ------------------------------------------------------------------------------------------

    def test_sms_fallback_for_blocked_senders_and_contacts_who_never_wrote(self):
        self.senders[1].is_blocked = True
        never_wrote = self.env["res.partner"].create(
            [
                {"name": "Taras", "phone": "+380671112233", "city": "Odesa"},
                {"name": "No phone", "city": "Odesa"},
            ]
        )
        broadcast = self.new_broadcast(
            sms_fallback=True, sms_template_id=self.template.id, partner_domain="[('city', '=', 'Odesa')]"
        )
        self.assertEqual((broadcast.recipient_count, broadcast.sms_recipient_count), (5, 2))
        broadcast.action_send()
        with self.mockSMSGateway():
            self.run_broadcasts()
        self.assertSMSIapSent(["+380671234501"], "Hello Customer 1, spring sale!")
        self.assertSMSIapSent(["+380671112233"], "Hello Taras, spring sale!")
        self.assertEqual(len(self._sms), 2)
        self.assertNotIn("5001", self.sent_chats(), "a blocked sender gets the SMS, not the message")
        by_partner = {r.partner_id: r for r in broadcast.recipient_ids}
        self.assertEqual(
            (by_partner[self.partners[1]].via, by_partner[self.partners[1]].state), ("sms", "sent")
        )
        self.assertEqual(by_partner[never_wrote[0]].state, "sent")
        self.assertEqual(by_partner[never_wrote[1]].state, "failed")
        self.assertIn("No phone number", by_partner[never_wrote[1]].error)
        self.assertEqual((broadcast.sent_count, broadcast.failed_count, broadcast.state), (6, 1, "done"))

    def test_sms_gateway_error_is_the_reason(self):
        self.senders[1].is_blocked = True
        broadcast = self.new_broadcast(sms_fallback=True, recipient_domain="[('is_blocked', '=', True)]")
        broadcast.action_send()
        with self.mockSMSGateway(sim_error="credit"):
            self.run_broadcasts()
        recipient = broadcast.recipient_ids
        self.assertEqual((recipient.state, recipient.error), ("failed", "Insufficient Credit"))

    def test_blocked_without_sms_fallback_is_counted_blocked(self):
        self.senders[1].is_blocked = True
        broadcast = self.new_broadcast(recipient_domain="[('is_blocked', '=', True)]")
        broadcast.action_send()
        with self.mockSMSGateway():
            self.run_broadcasts()
        self.assertFalse(self._sms)
        self.assertEqual((broadcast.blocked_count, broadcast.state), (1, "done"))

    # ------------------------------------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------------------------------------

    def test_users_cannot_create_or_see_broadcasts(self):
        with self.assertRaises(AccessError):
            self.Broadcast.with_user(self.bot_user).create(
                {"name": "Nope", "bot_id": self.bot.id, "body": "Hi"}
            )
        broadcast = self.new_broadcast()
        with self.assertRaises(AccessError):
            broadcast.with_user(self.bot_user).read(["body"])
        with self.assertRaises(AccessError):
            broadcast.with_user(self.bot_user).action_send()
        admin_broadcast = self.Broadcast.with_user(self.bot_admin).create(
            {"name": "Admin", "bot_id": self.bot.id, "body": "Hi"}
        )
        admin_broadcast.with_user(self.bot_admin).action_send()
        self.assertEqual(admin_broadcast.state, "sending")
