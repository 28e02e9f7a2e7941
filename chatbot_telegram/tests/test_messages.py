import base64
import time
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.chatbot_base.tools.connector import Button

from .common import TOKEN, TelegramCase, with_update_id


@tagged("chatbot", "post_install", "-at_install")
class TestMessages(TelegramCase):
    def setUp(self):
        super().setUp()
        self.connect()

    def receive(self, update):
        self.channel._chatbot_store_inbound(with_update_id(update))
        self.process_inbound()
        return update

    def test_text_makes_sender_partner_and_dialog(self):
        user = {
            "id": 9001,
            "is_bot": False,
            "first_name": "Mykola",
            "last_name": "Shevchuk",
            "username": "mykola_s",
            "language_code": "uk",
        }
        self.receive(self.fake.make_message_update(9001, "Добрий день!", user=user))
        dialog = self.dialog_of(9001)
        self.assertEqual(dialog.message_ids.body, "Добрий день!")
        sender = dialog.sender_id
        self.assertEqual((sender.name, sender.username, sender.lang), ("Mykola Shevchuk", "mykola_s", "uk"))
        self.assertEqual(dialog.partner_id.name, "Mykola Shevchuk")

    def test_typing_is_shown_while_the_bot_works_longer_than_a_moment(self):
        Channel = type(self.env["chatbot.channel"])
        original = Channel._chatbot_process_event

        def slow(channel, event):
            time.sleep(0.3)
            return original(channel, event)

        with (
            patch.object(Channel, "_chatbot_process_event", slow),
            patch("odoo.addons.chatbot_telegram.tools.connector.TYPING_AFTER", 0.05),
        ):
            self.receive(self.fake.make_message_update(9031, "A slow question"))
        typing = self.fake.calls_for("sendChatAction", chat_id=9031)
        self.assertEqual([c.params.get("action") for c in typing], ["typing"])
        # a quick answer shows nothing: the answer itself arrives first
        self.receive(self.fake.make_message_update(9032, "A quick one"))
        time.sleep(0.1)
        self.assertFalse(self.fake.calls_for("sendChatAction", chat_id=9032))

    def test_start_command_with_payload(self):
        self.receive(self.fake.make_message_update(9002, "/start promo-42"))
        self.assertEqual(self.dialog_of(9002).message_ids.body, "/start promo-42")

    def test_photo_and_document_are_downloaded(self):
        photo_id = self.fake.add_file(TOKEN, b"\x89PNG fake photo bytes", file_path="photos/p1.jpg")
        doc_id = self.fake.add_file(TOKEN, b"%PDF-1.4 invoice", file_path="documents/invoice.pdf")
        update = self.fake.make_message_update(
            9003,
            None,
            photo=[
                {"file_id": photo_id, "file_unique_id": "small", "width": 90, "height": 90, "file_size": 21},
                {"file_id": photo_id, "file_unique_id": "big", "width": 800, "height": 800, "file_size": 21},
            ],
            caption="My kettle",
        )
        self.receive(update)
        self.receive(
            self.fake.make_message_update(
                9003,
                None,
                document={
                    "file_id": doc_id,
                    "file_unique_id": "d1",
                    "file_name": "invoice.pdf",
                    "mime_type": "application/pdf",
                    "file_size": 16,
                },
            )
        )
        messages = self.dialog_of(9003).message_ids
        self.assertEqual(messages[0].body, "My kettle")
        self.assertEqual(messages[0].attachment_ids.raw, b"\x89PNG fake photo bytes")
        self.assertEqual(messages[1].attachment_ids.name, "invoice.pdf")
        self.assertEqual(messages[1].attachment_ids.raw, b"%PDF-1.4 invoice")

    def test_file_over_twenty_megabytes_is_reported_not_downloaded(self):
        big = self.fake.add_file(TOKEN, b"x", file_path="videos/big.mp4", file_size=25 * 1024 * 1024)
        self.receive(
            self.fake.make_message_update(
                9004,
                None,
                video={
                    "file_id": big,
                    "file_unique_id": "v",
                    "width": 1,
                    "height": 1,
                    "duration": 1,
                    "file_size": 25 * 1024 * 1024,
                },
            )
        )
        message = self.dialog_of(9004).message_ids
        self.assertFalse(message.attachment_ids)
        self.assertIn("over 20 MB", message.body)
        self.assertFalse(self.fake.calls_for("getFile"))

    def test_contact_sets_the_phone(self):
        self.receive(self.fake.make_message_update(9005, "hi"))
        self.receive(self.fake.make_contact_update(9005, "380501234567"))
        sender = self.dialog_of(9005).sender_id
        self.assertEqual(sender.phone, "+380501234567")
        self.assertEqual(sender.partner_id.phone, "+380501234567")

    def test_edit_updates_the_message(self):
        update = self.receive(self.fake.make_message_update(9006, "Helo"))
        message_id = update["message"]["message_id"]
        edited = self.fake.make_message_update(9006, "Hello")
        edited["edited_message"] = dict(edited.pop("message"), message_id=message_id, edit_date=1)
        self.receive(edited)
        message = self.dialog_of(9006).message_ids
        self.assertEqual((message.body, message.is_edited), ("Hello", True))

    def test_button_press_is_stored_and_answered(self):
        self.receive(self.fake.make_message_update(9007, "hi"))
        self.receive(self.fake.make_callback_update(9007, "answer:yes", message_id=1))
        self.assertEqual(self.dialog_of(9007).message_ids[-1].button_data, "answer:yes")
        answer = self.env["chatbot.outbound"].search([("kind", "=", "answer"), ("chat_id", "=", "9007")])
        self.assertEqual(answer.state, "queued", "answered by the queue, after the update's transaction")
        self.assertFalse(self.fake.calls_for("answerCallbackQuery"))
        self.send_outbound()
        self.assertEqual(len(self.fake.calls_for("answerCallbackQuery")), 1)
        self.assertEqual(answer.state, "sent")

    def test_blocking_the_bot_marks_the_sender(self):
        self.receive(self.fake.make_message_update(9008, "hi"))
        self.receive(self.fake.make_my_chat_member_update(9008, "kicked"))
        sender = self.dialog_of(9008).sender_id
        self.assertTrue(sender.is_blocked)
        self.receive(self.fake.make_my_chat_member_update(9008, "member"))
        self.assertFalse(sender.is_blocked)

    def test_reply_with_buttons_reaches_telegram(self):
        self.receive(self.fake.make_message_update(9009, "hi"))
        dialog = self.dialog_of(9009)
        message = dialog._chatbot_send(
            "Pick one <please> & thanks", buttons=[[Button("Yes", data="y"), Button("No", data="n")]]
        )
        self.send_outbound()
        sent = self.fake.sent_messages(chat_id=9009)
        self.assertEqual(sent[-1]["text"], "Pick one <please> & thanks")
        keyboard = sent[-1]["reply_markup"]["inline_keyboard"]
        self.assertEqual([[b["text"] for b in row] for row in keyboard], [["Yes", "No"]])
        self.assertEqual(message.delivery_state, "sent")
        self.assertEqual(message.external_id, str(sent[-1]["message_id"]))

    def test_long_text_is_split(self):
        self.receive(self.fake.make_message_update(9010, "hi"))
        self.dialog_of(9010)._chatbot_send(("word " * 1000).strip())
        self.send_outbound()
        parts = self.fake.sent_messages(chat_id=9010)
        self.assertEqual(len(parts), 2)
        self.assertEqual(" ".join(p["text"] for p in parts), ("word " * 1000).strip())

    def test_attachment_is_sent_as_a_document(self):
        self.receive(self.fake.make_message_update(9011, "hi"))
        attachment = self.env["ir.attachment"].create(
            {
                "name": "price-list.pdf",
                "datas": base64.b64encode(b"%PDF-1.4 prices"),
                "mimetype": "application/pdf",
            }
        )
        self.dialog_of(9011)._chatbot_send("Our prices", attachments=attachment)
        self.send_outbound()
        sent = self.fake.sent_messages(chat_id=9011)[-1]
        self.assertEqual(sent["caption"], "Our prices")
        self.assertEqual(sent["document"]["file_name"], "price-list.pdf")

    def test_blocked_recipient_is_marked_and_not_retried(self):
        self.receive(self.fake.make_message_update(9012, "hi"))
        dialog = self.dialog_of(9012)
        self.fake.block_chat(9012)
        message = dialog._chatbot_send("Are you there?")
        self.send_outbound()
        self.assertEqual(message.delivery_state, "failed")
        self.assertIn("blocked", message.delivery_error)
        self.assertTrue(dialog.sender_id.is_blocked)
        self.assertEqual(len(self.fake.calls_for("sendMessage", chat_id=9012)), 1)

    def test_too_many_requests_holds_and_then_delivers(self):
        self.receive(self.fake.make_message_update(9013, "hi"))
        self.fake.fail_next("sendMessage", chat_id=9013, kind="retry_after", retry_after=1)
        message = self.dialog_of(9013)._chatbot_send("Wait for it")
        self.send_outbound()
        self.assertEqual(message.delivery_state, "sent", "held for retry_after, then sent in the same run")
        self.assertEqual([m["text"] for m in self.fake.sent_messages(chat_id=9013)], ["Wait for it"])

    def test_server_errors_are_retried(self):
        self.receive(self.fake.make_message_update(9014, "hi"))
        self.fake.fail_next("sendMessage", chat_id=9014, kind="server_error", status=502)
        message = self.dialog_of(9014)._chatbot_send("Still here")
        self.send_outbound()
        self.assertEqual(message.delivery_state, "queued")
        self.assertIn("Bad Gateway", message.delivery_error)
        message.outbound_id.next_try = message.outbound_id.create_date
        self.send_outbound()
        self.assertEqual(message.delivery_state, "sent")

    def test_disconnected_channel_fails_with_a_reason(self):
        self.receive(self.fake.make_message_update(9015, "hi"))
        self.channel.with_user(self.sysadmin).action_telegram_disconnect()
        message = self.dialog_of(9015)._chatbot_send("Hello?")
        self.send_outbound()
        self.assertEqual(message.delivery_state, "failed")
        self.assertIn("not connected", message.delivery_error)

    # ------------------------------------------------------------------------------------------
    # Updates that cannot be read whole (issue 14)
    # ------------------------------------------------------------------------------------------

    def inbound_row(self, update):
        return self.env["chatbot.inbound"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", str(update["update_id"]))]
        )

    @mute_logger("odoo.addons.chatbot_base.models.chatbot_inbound")
    def test_update_dated_past_year_9999_fails_at_once_and_its_chat_goes_on(self):
        """python-telegram-bot raises OverflowError on a date of 2**63: the update cannot be read, it fails
        at the first attempt (shown with Retry) and the chat's next update is processed in the same run."""
        poison = with_update_id(self.fake.make_message_update(9040, "poison", date=2**63))
        self.channel._chatbot_store_inbound(poison)
        self.receive(self.fake.make_message_update(9040, "after it"))
        row = self.inbound_row(poison)
        self.assertEqual((row.state, row.attempts), ("failed", 1))
        self.assertEqual(row.error, "malformed Telegram message update (OverflowError)")
        self.assertEqual(self.dialog_of(9040).message_ids.mapped("body"), ["after it"])

    def old_photo(self, chat_id, **extra):
        """A photo message as older recordings of real updates have it: sizes without file_unique_id."""
        photo_id = self.fake.add_file(TOKEN, b"\x89PNG old photo", file_path="photos/old.jpg")
        sizes = [{"file_id": photo_id, "width": 800, "height": 600, "file_size": 15}]
        return self.fake.make_message_update(chat_id, None, photo=sizes, **extra)

    def test_photo_python_telegram_bot_cannot_read_keeps_the_caption(self):
        update = self.receive(self.old_photo(9041, caption="My kettle"))
        self.assertEqual(self.inbound_row(update).state, "done")
        message = self.dialog_of(9041).message_ids
        self.assertEqual(
            message.body,
            "My kettle\nA file the customer sent (Telegram photo) could not be read: it was left out.",
            "the caption, and the note below it",
        )
        self.assertFalse(message.attachment_ids)
        self.assertFalse(self.fake.calls_for("getFile"), "nothing to download")
        # the note travels with the message's event (the file's error), translated
        [event] = self.channel._chatbot_connector().parse(
            with_update_id(self.old_photo(9041, caption="Again"))
        )
        self.assertEqual(event.text, "Again")
        self.assertEqual(
            [(file.data, file.error) for file in event.files],
            [(None, "A file the customer sent (Telegram photo) could not be read: it was left out.")],
        )

    def test_photo_python_telegram_bot_cannot_read_is_noted_on_a_message_without_caption(self):
        self.receive(self.old_photo(9042))
        message = self.dialog_of(9042).message_ids
        self.assertEqual(
            message.body, "A file the customer sent (Telegram photo) could not be read: it was left out."
        )
        self.assertFalse(message.attachment_ids)

    def test_readable_sizes_of_a_photo_are_kept(self):
        photo_id = self.fake.add_file(TOKEN, b"\x89PNG small photo", file_path="photos/small.jpg")
        sizes = [
            {"file_id": photo_id, "file_unique_id": "small", "width": 90, "height": 90, "file_size": 17},
            {"file_id": "gone", "width": 800, "height": 800},
        ]
        self.receive(self.fake.make_message_update(9043, None, photo=sizes, caption="Readable"))
        message = self.dialog_of(9043).message_ids
        self.assertEqual(message.body, "Readable")
        self.assertEqual(message.attachment_ids.raw, b"\x89PNG small photo")

    def test_text_replying_to_a_photo_that_cannot_be_read_is_processed(self):
        replied = self.old_photo(9044)["message"]
        self.receive(self.fake.make_message_update(9044, "About that photo", reply_to_message=replied))
        self.assertEqual(self.dialog_of(9044).message_ids.mapped("body"), ["About that photo"])

    @mute_logger("odoo.addons.chatbot_base.models.chatbot_inbound")
    def test_server_error_while_downloading_a_file_is_retried(self):
        """A 5xx on getFile can heal by waiting: the update stays pending with a next try, and holds its
        chat's later updates (for at most the hold)."""
        photo_id = self.fake.add_file(TOKEN, b"\x89PNG photo", file_path="photos/p.jpg")
        sizes = [{"file_id": photo_id, "file_unique_id": "p", "width": 90, "height": 90, "file_size": 11}]
        self.fake.fail_next("getFile", kind="server_error", status=502)
        update = self.receive(self.fake.make_message_update(9045, None, photo=sizes))
        later = self.receive(self.fake.make_message_update(9045, "later"))
        row = self.inbound_row(update)
        self.assertEqual((row.state, row.attempts), ("pending", 1))
        self.assertTrue(row.error.startswith("TransientError: "), row.error)
        self.assertGreater(row.next_try, row.create_date)
        self.assertTrue(row.hold_until)
        self.assertEqual(self.inbound_row(later).state, "pending", "held behind the failed update")
        self.assertFalse(self.dialog_of(9045).message_ids)

    def test_profile_picture_that_is_not_an_image_leaves_the_contact_without_one(self):
        self.fake.set_profile_photos(TOKEN, 9046, [b"<not> an image, an error page"])
        self.fake.set_profile_photos(TOKEN, 9047, [b"Not Found"])
        with mute_logger("odoo.addons.chatbot_base.models.chatbot_sender"):
            first = self.receive(self.fake.make_message_update(9046, "Hello"))
            second = self.receive(self.fake.make_message_update(9047, "Hello too"))
        for update, chat_id in ((first, 9046), (second, 9047)):
            self.assertEqual(self.inbound_row(update).state, "done")
            dialog = self.dialog_of(chat_id)
            self.assertTrue(dialog.message_ids.body.startswith("Hello"))
            self.assertTrue(dialog.partner_id)
            self.assertFalse(dialog.partner_id.image_1920)
        self.assertTrue(self.fake.calls_for("getUserProfilePhotos"))
