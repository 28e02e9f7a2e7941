from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import TOKEN, TelegramCase, with_update_id
from .fake_telegram import default_user

FORUM = -1001000000001
GROUP = -1002000000001
BASIC_GROUP = -4001
HINT = "To answer a customer, reply to their message or write in their topic."
OPERATOR_USER = default_user(7001, first_name="Olena", last_name="Koval", username="olena_k")
COLLEAGUE_USER = default_user(7002, first_name="Petro", last_name="Bondar", username="petro_b")


@tagged("chatbot", "post_install", "-at_install")
class TestOperatorGroup(TelegramCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.processor = cls.bot._chatbot_processor()
        cls.manager = new_test_user(
            cls.env, "tg_bot_manager", groups="chatbot_base.chatbot_base_group_manager"
        )
        cls.fake.add_chat(FORUM, type="supergroup", title="Support (forum)", is_forum=True)
        cls.fake.add_chat(GROUP, type="supergroup", title="Support")
        cls.fake.add_chat(BASIC_GROUP, type="group", title="Support (basic)")

    def setUp(self):
        super().setUp()
        self.connect()

    # --- helpers

    def set_group(self, chat_id):
        self.channel.telegram_group_chat_id = str(chat_id)

    def receive(self, update):
        inbound_id = self.channel._chatbot_store_inbound(with_update_id(update))
        self.process_inbound()
        inbound = self.env["chatbot.inbound"].browse(inbound_id)
        self.assertEqual((inbound.state, inbound.error), ("done", False))
        return update

    def customer_says(self, chat_id, text, **extra):
        update = self.receive(self.fake.make_message_update(chat_id, text, **extra))
        dialog = self.dialog_of(chat_id)
        return dialog, dialog.message_ids.filtered(
            lambda m: m.external_id == str(update["message"]["message_id"])
        )

    def relay(self, dialog, message):
        # relaying runs in the customer's update processing, as the processor user
        return dialog.with_user(self.processor)._telegram_relay_to_group(message)

    def photo_update(self, chat_id, caption):
        photo_id = self.fake.add_file(TOKEN, b"\x89PNG kettle", file_path=f"photos/{chat_id}.jpg")
        size = {
            "file_id": photo_id,
            "file_unique_id": f"p{chat_id}",
            "width": 800,
            "height": 600,
            "file_size": 12,
        }
        return self.fake.make_message_update(chat_id, None, photo=[size], caption=caption)

    def operator_writes(self, chat_id, text, user=None, **extra):
        """An operator's message in a group; returns (update, _chatbot_on_operator_message's calls)."""
        user = user or OPERATOR_USER
        Dialog = type(self.env["chatbot.dialog"])
        original = Dialog._chatbot_on_operator_message
        with patch.object(Dialog, "_chatbot_on_operator_message", autospec=True, side_effect=original) as spy:
            update = self.receive(self.fake.make_message_update(chat_id, text, user=user, **extra))
        return update, spy.call_args_list

    def make_operator(self, user):
        sender = self.env["chatbot.sender"].create(
            {"name": user["first_name"], "channel_id": self.channel.id, "external_id": str(user["id"])}
        )
        return self.env["chatbot.operator"].create({"bot_id": self.bot.id, "sender_id": sender.id})

    def group_texts(self, chat_id):
        """What the group got, but the actions message that opens each topic (see topic_actions)."""
        return [
            (m.get("text"), m.get("message_thread_id"))
            for m in self.fake.sent_messages(chat_id=chat_id)
            if "reply_markup" not in m
        ]

    def topic_actions(self, chat_id):
        return [m for m in self.fake.sent_messages(chat_id=chat_id) if "reply_markup" in m]

    # --- the group

    def test_setting_the_group_reads_it_from_telegram(self):
        self.set_group(FORUM)
        self.assertEqual(
            (self.channel.telegram_group_is_forum, self.channel.telegram_group_title),
            (True, "Support (forum)"),
        )
        self.assertEqual([c.params["chat_id"] for c in self.fake.calls_for("getChat")], [FORUM])
        self.set_group(GROUP)
        self.assertEqual(
            (self.channel.telegram_group_is_forum, self.channel.telegram_group_title), (False, "Support")
        )

    def test_check_group_action(self):
        # the writer says the group is no forum: nothing is read from Telegram
        self.channel.write({"telegram_group_chat_id": str(FORUM), "telegram_group_is_forum": False})
        self.assertFalse(self.channel.telegram_group_is_forum)
        self.assertFalse(self.fake.calls_for("getChat"))
        self.channel.with_user(self.sysadmin).action_telegram_check_group()
        self.assertEqual(
            (self.channel.telegram_group_is_forum, self.channel.telegram_group_title),
            (True, "Support (forum)"),
        )
        self.assertEqual(len(self.fake.calls_for("getChat")), 1)

    def test_check_group_the_bot_is_not_in(self):
        self.set_group(GROUP)
        self.fake.fail_next("getChat", kind="custom", status=400, description="Bad Request: chat not found")
        with self.assertRaisesRegex(
            UserError, r"The bot @shop_test_bot is not a member of the group -1002000000001"
        ):
            self.channel.with_user(self.sysadmin).action_telegram_check_group()
        self.fake.fail_next("getChat", kind="kicked")
        with self.assertRaisesRegex(UserError, r"is not a member of the group"):
            self.channel.with_user(self.sysadmin).action_telegram_check_group()

    def test_check_group_is_for_system_administrators(self):
        self.set_group(GROUP)
        with self.assertRaisesRegex(UserError, "Only system administrators"):
            self.channel.with_user(self.manager).action_telegram_check_group()

    def test_a_group_the_bot_cannot_read_yet_is_saved_with_a_status(self):
        self.fake.fail_next("getChat", kind="custom", status=400, description="Bad Request: chat not found")
        self.set_group(FORUM)
        self.assertEqual(self.channel.telegram_group_chat_id, str(FORUM))
        self.assertFalse(self.channel.telegram_group_is_forum)
        self.assertEqual(
            self.channel.status_message, "Operators' group: Telegram getChat: Bad Request: chat not found"
        )

    def test_group_chat_id_must_be_a_chat_id(self):
        with self.assertRaisesRegex(UserError, "a negative number"):
            self.channel.telegram_group_chat_id = "@support_team"

    # --- relaying into a forum group

    def test_forum_topic_is_created_once_and_text_goes_into_it(self):
        self.set_group(FORUM)
        dialog, first = self.customer_says(9101, "My kettle leaks")
        self.relay(dialog, first)
        self.assertEqual(first.telegram_group_outbound_id.state, "queued")
        self.assertEqual(dialog.telegram_topic_outbound_id.kind, "topic_create")
        self.assertFalse(self.fake.calls_for("createForumTopic"), "nothing is called before the queue sends")
        same_dialog, second = self.customer_says(9101, "Since yesterday")
        self.assertEqual(same_dialog, dialog)
        self.relay(dialog, second)
        self.send_outbound()
        topic = int(dialog.telegram_topic_id)
        self.assertEqual(self.fake.topics(FORUM)[topic]["name"], f"{dialog.code} · Ada Lovelace")
        self.assertEqual(len(self.fake.calls_for("createForumTopic")), 1)
        (actions,) = self.topic_actions(FORUM)
        self.assertEqual(actions["message_thread_id"], topic, "the topic opens with the dialog's actions")
        self.assertIn(dialog.code, actions["text"])
        buttons = [b for row in actions["reply_markup"]["inline_keyboard"] for b in row]
        self.assertEqual(
            [(b["text"], b["callback_data"]) for b in buttons],
            [
                ("Take", f"grp:take:{dialog.id}"),
                ("Transfer", f"grp:transfer:{dialog.id}"),
                ("End the dialog", f"grp:end:{dialog.id}"),
            ],
        )
        self.assertEqual(self.group_texts(FORUM), [("My kettle leaks", topic), ("Since yesterday", topic)])
        sent = [m for m in self.fake.sent_messages(chat_id=FORUM) if "reply_markup" not in m]
        self.assertEqual(first.telegram_group_message_id, str(sent[0]["message_id"]))
        self.assertEqual(second.telegram_group_message_id, str(sent[1]["message_id"]))
        self.assertFalse(self.fake.sent_messages(chat_id=9101), "nothing goes back to the customer")

    def test_relaying_twice_does_nothing_more(self):
        self.set_group(FORUM)
        dialog, message = self.customer_says(9102, "Hello")
        self.relay(dialog, message)
        outbound = message.telegram_group_outbound_id
        self.relay(dialog, message)
        self.assertEqual(message.telegram_group_outbound_id, outbound)
        self.assertEqual(
            self.env["chatbot.outbound"].search([("chat_id", "=", str(FORUM))], order="id").mapped("kind"),
            ["topic_create", "send", "send"],
            "the topic, its actions message, the relay: once",
        )

    def test_forum_photo_is_copied_into_the_topic(self):
        self.set_group(FORUM)
        dialog, first = self.customer_says(9103, "Hi")
        self.relay(dialog, first)
        self.send_outbound()
        topic = int(dialog.telegram_topic_id)
        update = self.receive(self.photo_update(9103, "Look at this"))
        photo = dialog.message_ids[-1]
        self.assertTrue(photo.telegram_has_files)
        self.relay(dialog, photo)
        self.send_outbound()
        copies = self.fake.calls_for("copyMessage", chat_id=FORUM)
        self.assertEqual(len(copies), 1)
        params = copies[0].params
        self.assertEqual(
            (params["from_chat_id"], params["message_id"], params["message_thread_id"]),
            (9103, update["message"]["message_id"], topic),
        )
        self.assertNotIn("caption", params, "in a topic the copy keeps the customer's caption")
        copied = self.fake.sent_messages(chat_id=FORUM)[-1]
        self.assertEqual((copied["caption"], copied["message_thread_id"]), ("Look at this", topic))
        self.assertEqual(photo.telegram_group_message_id, str(copied["message_id"]))
        self.assertEqual(photo.telegram_group_outbound_id.kind, "copy")

    def test_a_file_too_big_to_download_is_still_copied(self):
        self.set_group(FORUM)
        big = self.fake.add_file(TOKEN, b"x", file_path="videos/big9104.mp4", file_size=25 * 1024 * 1024)
        video = {"file_id": big, "file_unique_id": "v9104", "width": 1, "height": 1, "duration": 1}
        self.receive(
            self.fake.make_message_update(9104, None, video={**video, "file_size": 25 * 1024 * 1024})
        )
        dialog = self.dialog_of(9104)
        message = dialog.message_ids
        self.assertEqual((message.telegram_has_files, bool(message.attachment_ids)), (True, False))
        self.relay(dialog, message)
        self.send_outbound()
        self.assertEqual(len(self.fake.calls_for("copyMessage", chat_id=FORUM)), 1)
        self.assertEqual(self.fake.sent_messages(chat_id=FORUM)[-1]["video"]["file_id"], big)

    def test_a_photo_does_not_overtake_text_still_in_the_queue(self):
        self.set_group(FORUM)
        dialog, first = self.customer_says(9105, "Hi")
        self.relay(dialog, first)
        self.receive(self.photo_update(9105, "Look"))
        photo = dialog.message_ids[-1]
        self.relay(dialog, photo)
        self.assertFalse(self.fake.calls_for("copyMessage"))
        self.assertEqual(photo.telegram_group_outbound_id.state, "queued")
        self.send_outbound()
        sent = [m for m in self.fake.sent_messages(chat_id=FORUM) if "reply_markup" not in m]
        self.assertEqual([("text" in m, "photo" in m) for m in sent], [(True, False), (False, True)])
        self.assertEqual(len(self.fake.calls_for("copyMessage")), 1, "copied in its turn")
        self.assertEqual(sent[1]["caption"], "Look")
        self.assertEqual(photo.telegram_group_message_id, str(sent[1]["message_id"]))

    def test_topic_follows_the_dialog(self):
        self.set_group(FORUM)
        dialog, message = self.customer_says(9106, "Hi")
        self.relay(dialog, message)
        partner = self.env["res.partner"].create({"name": "Taras Hnatiuk"})
        dialog.with_user(self.processor).partner_id = partner  # before the topic exists: renamed after
        self.send_outbound()
        topic = int(dialog.telegram_topic_id)
        self.assertEqual(self.fake.topics(FORUM)[topic]["name"], f"{dialog.code} · Taras Hnatiuk")
        self.assertEqual(len(self.fake.calls_for("editForumTopic")), 1)
        dialog.with_user(self.manager).action_close()
        self.send_outbound()
        self.assertEqual((dialog.state, self.fake.topics(FORUM)[topic]["closed"]), ("closed", True))
        dialog.with_user(self.manager).state = "active"
        self.send_outbound()
        self.assertFalse(self.fake.topics(FORUM)[topic]["closed"])
        self.assertEqual(
            [c.method for c in self.fake.calls if c.method.endswith("ForumTopic")],
            ["createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic"],
        )
        self.assertFalse(self.channel.status_message)

    def test_a_topic_error_never_blocks_closing(self):
        self.set_group(FORUM)
        dialog, message = self.customer_says(9107, "Hi")
        self.relay(dialog, message)
        self.send_outbound()
        self.fake.fail_next(
            "closeForumTopic", kind="custom", status=400, description="Bad Request: not enough rights"
        )
        dialog.with_user(self.manager).action_close()
        self.assertEqual(dialog.state, "closed")
        self.send_outbound()
        closing = self.env["chatbot.outbound"].search(
            [("dialog_id", "=", dialog.id), ("kind", "=", "topic_close")]
        )
        self.assertEqual(closing.state, "failed")
        self.assertEqual(
            self.channel.status_message,
            "Operators' group: Telegram closeForumTopic: Bad Request: not enough rights",
        )

    def test_a_topic_that_cannot_be_made_leaves_the_messages_in_general_with_the_name(self):
        self.set_group(FORUM)
        self.fake.fail_next(
            "createForumTopic", kind="custom", status=400, description="Bad Request: not enough rights"
        )
        dialog, first = self.customer_says(9119, "Hi")
        self.relay(dialog, first)
        self.receive(self.photo_update(9119, "Look"))
        photo = dialog.message_ids[-1]
        self.relay(dialog, photo)
        self.send_outbound()
        self.assertFalse(dialog.telegram_topic_id)
        self.assertEqual(self.group_texts(FORUM)[0], ("Ada Lovelace:\nHi", None))
        self.assertFalse(self.topic_actions(FORUM), "no topic, no actions message in General")
        copied = self.fake.sent_messages(chat_id=FORUM)[-1]
        self.assertEqual((copied["caption"], copied.get("message_thread_id")), ("Ada Lovelace:\nLook", None))
        self.assertIn("not enough rights", self.channel.status_message)
        # the next message tries again
        _dialog, again = self.customer_says(9119, "Anyone?")
        self.relay(dialog, again)
        self.send_outbound()
        self.assertTrue(dialog.telegram_topic_id)
        self.assertEqual(self.group_texts(FORUM)[-1], ("Anyone?", int(dialog.telegram_topic_id)))

    def test_a_new_dialog_gets_a_new_topic(self):
        self.set_group(FORUM)
        dialog, message = self.customer_says(9108, "Hi")
        self.relay(dialog, message)
        self.send_outbound()
        dialog.action_close()
        new_dialog, new_message = self.customer_says(9108, "Me again")
        self.assertNotEqual(new_dialog, dialog)
        self.relay(new_dialog, new_message)
        self.send_outbound()
        self.assertNotEqual(new_dialog.telegram_topic_id, dialog.telegram_topic_id)
        self.assertEqual(len(self.fake.calls_for("createForumTopic")), 2)
        self.assertFalse(self.fake.calls_for("reopenForumTopic"))

    def test_another_group_forgets_the_topics(self):
        self.set_group(FORUM)
        dialog, message = self.customer_says(9109, "Hi")
        self.relay(dialog, message)
        self.send_outbound()
        self.assertTrue(dialog.telegram_topic_id)
        self.set_group(GROUP)
        self.assertFalse(dialog.telegram_topic_id)

    # --- operators answering in a forum group

    def test_operator_answer_in_the_topic_reaches_the_customer(self):
        self.set_group(FORUM)
        operator = self.make_operator(OPERATOR_USER)
        dialog, message = self.customer_says(9110, "Where is my order?")
        self.relay(dialog, message)
        self.send_outbound()
        topic = int(dialog.telegram_topic_id)
        _update, calls = self.operator_writes(
            FORUM,
            "It ships today",
            message_thread_id=topic,
            is_topic_message=True,
            reply_to_message=self.fake.get_message(FORUM, topic),
        )
        self.assertEqual(len(calls), 1)
        self.assertEqual((calls[0].args[0], calls[0].kwargs["operator"]), (dialog, operator))
        self.send_outbound()
        self.assertEqual([m["text"] for m in self.fake.sent_messages(chat_id=9110)], ["It ships today"])
        answer = dialog.message_ids.filtered(lambda m: m.author_kind == "operator")
        self.assertEqual(
            (answer.body, answer.direction, answer.delivery_state), ("It ships today", "out", "sent")
        )
        self.assertEqual(self.group_texts(FORUM), [("Where is my order?", topic)], "no hint in the group")

    def test_general_topic_gets_a_hint(self):
        self.set_group(FORUM)
        dialog, message = self.customer_says(9111, "Hi")
        self.relay(dialog, message)
        self.send_outbound()
        update, calls = self.operator_writes(FORUM, "Who takes the new one?")
        self.assertFalse(calls)
        self.send_outbound()
        hint = self.fake.sent_messages(chat_id=FORUM)[-1]
        self.assertEqual(hint["text"], HINT)
        self.assertNotIn("message_thread_id", hint)
        self.assertEqual(hint["reply_to_message"]["message_id"], update["message"]["message_id"])
        self.assertEqual(len(self.fake.sent_messages(chat_id=9111)), 0)

    # --- a group without topics

    def test_group_text_is_relayed_with_the_customer_name(self):
        self.set_group(GROUP)
        dialog, message = self.customer_says(9112, "Do you deliver to Lviv?")
        self.relay(dialog, message)
        self.send_outbound()
        self.assertEqual(self.group_texts(GROUP), [("Ada Lovelace:\nDo you deliver to Lviv?", None)])
        self.assertFalse(self.fake.calls_for("createForumTopic"))
        self.assertFalse(dialog.telegram_topic_id)

    def test_group_photo_is_copied_with_the_customer_name(self):
        self.set_group(GROUP)
        self.receive(self.photo_update(9113, "Broken <lid> & handle"))
        dialog = self.dialog_of(9113)
        self.relay(dialog, dialog.message_ids)
        self.send_outbound()
        copy = self.fake.calls_for("copyMessage", chat_id=GROUP)[0]
        self.assertEqual(copy.params["caption"], "Ada Lovelace:\nBroken &lt;lid&gt; &amp; handle")
        self.assertEqual(
            self.fake.sent_messages(chat_id=GROUP)[-1]["caption"], "Ada Lovelace:\nBroken <lid> & handle"
        )

    def test_reply_to_a_relayed_message_reaches_that_customer(self):
        self.set_group(GROUP)
        dialog, message = self.customer_says(9114, "Do you open on Sunday?")
        other_dialog, other_message = self.customer_says(9115, "Hello?")
        self.relay(dialog, message)
        self.relay(other_dialog, other_message)
        self.send_outbound()
        relayed = self.fake.get_message(GROUP, int(message.telegram_group_message_id))
        _update, calls = self.operator_writes(
            GROUP, "Yes, from 10", user=COLLEAGUE_USER, reply_to_message=relayed
        )
        self.assertEqual((calls[0].args[0], calls[0].kwargs["operator"]), (dialog, None))
        self.send_outbound()
        self.assertEqual([m["text"] for m in self.fake.sent_messages(chat_id=9114)], ["Yes, from 10"])
        self.assertFalse(self.fake.sent_messages(chat_id=9115))

    def test_other_group_messages_get_a_hint_and_reach_nobody(self):
        self.set_group(GROUP)
        dialog, message = self.customer_says(9116, "Hi")
        self.relay(dialog, message)
        self.send_outbound()
        hint = None
        for text in ("Coffee, anyone?", "Thanks, bot"):
            # the second one replies to the bot's own hint: no customer's message either
            extra = {"reply_to_message": self.fake.get_message(GROUP, hint["message_id"])} if hint else {}
            update, calls = self.operator_writes(GROUP, text, **extra)
            self.assertFalse(calls)
            self.send_outbound()
            hint = self.fake.sent_messages(chat_id=GROUP)[-1]
            self.assertEqual(
                (hint["text"], hint["reply_to_message"]["message_id"]),
                (HINT, update["message"]["message_id"]),
            )
        self.assertEqual(len(self.fake.sent_messages(chat_id=GROUP)), 3)
        self.assertEqual(
            {m["chat"]["id"] for m in self.fake.sent_messages()}, {GROUP}, "nothing went to a customer"
        )

    def test_messages_of_other_groups_are_ignored(self):
        self.set_group(GROUP)
        queued = self.env["chatbot.outbound"].search_count([("channel_id", "=", self.channel.id)])
        _update, calls = self.operator_writes(-1009999999999, "Hello, group")
        self.assertFalse(calls)
        self.assertEqual(
            self.env["chatbot.outbound"].search_count([("channel_id", "=", self.channel.id)]), queued
        )
        self.send_outbound()
        self.assertFalse(self.fake.sent_messages())

    # --- a group that became a supergroup

    def test_migrated_group_is_remembered_by_the_queue(self):
        self.set_group(BASIC_GROUP)
        self.fake.migrate_chat(BASIC_GROUP, -1004001)
        dialog, message = self.customer_says(9117, "Hello")
        self.relay(dialog, message)
        self.send_outbound()
        self.assertEqual(self.channel.telegram_group_chat_id, "-1004001")
        sent = self.fake.sent_messages(chat_id=-1004001)
        self.assertEqual([m["text"] for m in sent], ["Ada Lovelace:\nHello"])
        self.assertEqual(message.telegram_group_message_id, str(sent[0]["message_id"]))
        self.assertEqual(message.telegram_group_outbound_id.chat_id, "-1004001")

    def test_migrated_group_is_remembered_by_a_copy(self):
        self.set_group(BASIC_GROUP)
        self.fake.fail_next("copyMessage", chat_id=BASIC_GROUP, kind="migrate", migrate_to_chat_id=-1004002)
        self.receive(self.photo_update(9118, "Look"))
        dialog = self.dialog_of(9118)
        self.relay(dialog, dialog.message_ids)
        self.send_outbound()
        self.assertEqual(self.channel.telegram_group_chat_id, "-1004002")
        self.assertEqual(
            [c.params["chat_id"] for c in self.fake.calls_for("copyMessage")], [BASIC_GROUP, -1004002]
        )
        self.assertEqual(
            dialog.message_ids.telegram_group_message_id,
            str(self.fake.sent_messages(chat_id=-1004002)[-1]["message_id"]),
        )
