from odoo.tests import tagged

from .common import OperatorCase


@tagged("chatbot", "post_install", "-at_install")
class TestSimilarContacts(OperatorCase):
    """Creatio's similar contacts: found when a chat starts, merged with Odoo's wizard keeping the dialog's
    contact; the senders, dialogs and conversations of the others follow it."""

    def setUp(self):
        super().setUp()
        # the same person wrote before from another messenger account: their contact has an e-mail since
        self.receive(
            1,
            chat=2002,
            text="/start",
            user={"id": 2002, "name": "Olena Koval", "username": "olena_similar_k"},
        )
        self.old_dialog = self.dialog_of(2002)
        self.known = self.old_dialog.partner_id
        self.known.email = "olena@example.com"
        self.old_conversation = self.old_dialog.discuss_channel_id
        self.old_dialog.action_end()

    def test_a_new_chat_finds_similar_contacts_and_a_merge_keeps_everything(self):
        self.receive(2, chat=3003, text="/start", user={"id": 3003, "name": "Olena Koval"})
        dialog = self.dialog_of(3003)
        self.assertTrue(dialog.partner_id)
        self.assertNotEqual(dialog.partner_id, self.known, "a new contact from the messenger profile")
        self.assertEqual(dialog.similar_partner_ids, self.known, "the same name")
        self.assertEqual(dialog.similar_partner_count, 1)
        store = dialog.discuss_channel_id._chatbot_dialog_store_values()
        self.assertEqual(store["chatbotSimilarCount"], 1, "shown beside the conversation")

        action = dialog.action_chatbot_merge_similar()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(wizard.dst_partner_id, dialog.partner_id, "the dialog's contact is the current one")
        self.assertEqual(wizard.partner_ids, dialog.partner_id | self.known)
        wizard.action_merge()

        self.assertFalse(self.known.exists())
        self.assertEqual(self.old_dialog.partner_id, dialog.partner_id, "the old dialog follows")
        self.assertEqual(self.old_dialog.sender_id.partner_id, dialog.partner_id, "the old account follows")
        self.assertIn(dialog.partner_id, self.old_conversation.channel_member_ids.partner_id)
        self.assertEqual(dialog.partner_id.chatbot_dialog_count, 2, "the whole history on one contact")
        self.assertEqual(dialog.similar_partner_count, 0)

    def test_a_new_senders_contact_is_checked_before_any_operator(self):
        self.bot.wait_start_message = True
        self.receive(2, chat=3003, text="Hello", user={"id": 3003, "name": "Olena Koval"})
        dialog = self.dialog_of(3003)
        self.assertEqual(dialog.state, "bot", "no operator yet")
        self.assertEqual(dialog.similar_partner_ids, self.known)

    def test_phone_email_and_username_find_them_too(self):
        self.receive(
            2, chat=3003, text="/start", user={"id": 3003, "name": "OK", "username": "olena_similar_k"}
        )
        dialog = self.dialog_of(3003)
        self.assertEqual(dialog.similar_partner_ids, self.known, "the same messenger username")
        dialog.partner_id.write({"email": "OLENA@example.com"})
        self.known.write({"name": "Someone else", "phone": "+380 93 555 01 77"})
        self.old_dialog.sender_id.username = False
        dialog.action_chatbot_find_similar()
        self.assertEqual(dialog.similar_partner_ids, self.known, "the same e-mail, whatever the case")
        dialog.partner_id.write({"email": False, "phone": "+380935550177"})
        dialog.action_chatbot_find_similar()
        self.assertEqual(dialog.similar_partner_ids, self.known, "the same phone, however written")
        dialog.partner_id.write({"phone": False})
        dialog.action_chatbot_find_similar()
        self.assertFalse(dialog.similar_partner_ids)
