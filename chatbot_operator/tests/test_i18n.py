from odoo.tests import tagged
from odoo.tools.translate import code_translations

from ..models.chatbot_bot import DEFAULT_TEXTS
from .common import OperatorCase

SUITE = ["chatbot_base", "chatbot_telegram", "chatbot_operator", "chatbot_client", "chatbot_livechat"]


def install_languages(env, *langs):
    """Install languages as Settings > Languages does, with the Bots addons' translations."""
    for lang in langs:
        env["res.lang"]._activate_lang(lang)
    installed = env["ir.module.module"].search([("name", "in", SUITE), ("state", "=", "installed")])
    env["ir.module.module"]._load_module_terms(installed.mapped("name"), list(langs), overwrite=True)


@tagged("chatbot", "post_install", "-at_install")
class TestCustomerLanguage(OperatorCase):
    """A customer reads the bot in their contact's language, else their messenger's, when Odoo has it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()  # the bot is created before the languages are installed
        install_languages(cls.env, "uk_UA", "ru_RU")
        cls.uk = {key: text._translate("uk_UA") for key, text in DEFAULT_TEXTS.items()}
        cls.ru = {key: text._translate("ru_RU") for key, text in DEFAULT_TEXTS.items()}

    def test_the_translations_are_real(self):
        for key, source in DEFAULT_TEXTS.items():
            english = source._translate("en_US")
            self.assertNotEqual(self.uk[key], english, key)
            self.assertNotEqual(self.ru[key], english, key)
            self.assertNotEqual(self.uk[key], self.ru[key], key)

    def test_a_ukrainian_telegram_user_gets_the_unedited_texts_in_ukrainian(self):
        user = {"id": 1001, "name": "Oksana", "lang": "uk"}
        self.receive(1, chat=1001, text="Hello", user=user)
        dialog = self.dialog_of(1001)
        self.assertEqual(self.texts_to(dialog), [self.uk["text_not_found"]])
        self.receive(2, chat=1001, text="/start", user=user)
        texts = self.texts_to(dialog)
        self.assertIn(f"Operator 1 {self.uk['text_connected']}", texts)
        self.assertIn(self.uk["text_how_to_end"], texts)
        dialog.with_user(self.users[0]).action_end()
        self.assertIn(self.uk["text_completed"], self.texts_to(dialog))
        self.assertNotIn("Consultation completed", self.texts_to(dialog))

    def test_the_contact_language_comes_before_the_messenger_language(self):
        partner = self.env["res.partner"].create({"name": "Ivan", "lang": "ru_RU"})
        self.receive(1, chat=1002, text="Hi", user={"id": 1002, "name": "Ivan", "lang": "uk"})
        dialog = self.dialog_of(1002)
        dialog.sender_id.partner_id = partner
        dialog.partner_id = partner
        self.receive(2, chat=1002, text="Hi again", user={"id": 1002, "name": "Ivan", "lang": "uk"})
        self.assertEqual(self.texts_to(dialog), [self.uk["text_not_found"], self.ru["text_not_found"]])

    def test_a_language_odoo_does_not_have_gets_the_bot_language(self):
        self.receive(1, chat=1003, text="Hi", user={"id": 1003, "name": "Jan", "lang": "pl"})
        self.assertEqual(self.texts_to(self.dialog_of(1003)), ["Press /start to talk."])

    def test_installing_a_language_translates_the_texts_nobody_edited(self):
        # the bot was created before Ukrainian was installed: its form now shows the Ukrainian default
        self.assertEqual(self.bot.with_context(lang="uk_UA").text_not_found, self.uk["text_not_found"])
        self.assertEqual(self.bot.with_context(lang="en_US").text_not_found, "Press /start to talk.")

    def test_an_edited_text_is_kept_and_translatable_per_language(self):
        self.bot.with_context(lang="en_US").text_not_found = "Send /start, please."
        self.receive(1, chat=1004, text="Hi", user={"id": 1004, "name": "Olha", "lang": "uk"})
        self.receive(3, chat=1005, text="Hi", user={"id": 1005, "name": "Jan", "lang": "pl"})
        self.assertEqual(self.texts_to(self.dialog_of(1005)), ["Send /start, please."], "edited in English")
        dialog = self.dialog_of(1004)
        self.assertEqual(self.texts_to(dialog), [self.uk["text_not_found"]], "Ukrainian: not edited")
        self.bot.update_field_translations("text_not_found", {"uk_UA": "Надішліть /start, будь ласка."})
        self.receive(2, chat=1004, text="Hi", user={"id": 1004, "name": "Olha", "lang": "uk"})
        self.assertEqual(self.texts_to(dialog)[-1], "Надішліть /start, будь ласка.")
        install_languages(self.env, "uk_UA")  # loading the translations again keeps the edit
        self.assertEqual(self.bot.with_context(lang="uk_UA").text_not_found, "Надішліть /start, будь ласка.")

    def test_a_new_bot_shows_its_texts_in_each_installed_language(self):
        bot = (
            self.env["chatbot.bot"].with_user(self.bot_admin).create({"name": "New", "bot_type": "operator"})
        )
        self.assertEqual(bot.with_context(lang="en_US").text_completed, "Consultation completed")
        self.assertEqual(bot.with_context(lang="uk_UA").text_completed, self.uk["text_completed"])
        self.assertEqual(bot.with_context(lang="ru_RU").text_completed, self.ru["text_completed"])
        ukrainian_admin = self.bot_admin.with_context(lang="uk_UA")
        bot = (
            self.env["chatbot.bot"]
            .with_user(ukrainian_admin)
            .create({"name": "Нова", "bot_type": "operator"})
        )
        self.assertEqual(bot.with_context(lang="en_US").text_completed, "Consultation completed")

    def test_queue_and_transfer_texts_follow_the_customer(self):
        self.operators.write({"status": "inactive"})
        self.operators[0].status = "active"
        self.bot.max_parallel_chats = 1
        self.start(2001, update_id=1)
        self.receive(2, chat=2002, text="/start", user={"id": 2002, "name": "Petro", "lang": "ru"})
        waiting = self.dialog_of(2002)
        self.assertIn(self.ru["text_queue"].replace("{position}", "1"), self.texts_to(waiting))

    def test_the_stop_button_of_a_broadcast_speaks_each_recipient_language(self):
        senders = self.env["chatbot.sender"]
        for chat, lang in ((3001, "uk"), (3002, "ru"), (3003, "en")):
            self.receive(chat, chat=chat, text="Hi", user={"id": chat, "name": f"C{chat}", "lang": lang})
            senders |= self.dialog_of(chat).sender_id
        broadcast = self.env["chatbot.broadcast"].create(
            {
                "name": "Sale",
                "bot_id": self.bot.id,
                "body": "Sale!",
                "recipient_domain": f"[('id', 'in', {senders.ids})]",
            }
        )
        button = self.env["chatbot.broadcast.button"].new({"button_type": "optout"})
        button._onchange_button_type()
        self.assertEqual(button.label, "Unsubscribe")
        broadcast.button_ids = [(0, 0, {"label": button.label, "button_type": "optout"})]
        broadcast.action_send()
        self.fake.sent.clear()
        self.env["chatbot.broadcast"]._cron_send(time_budget=5)
        self.Outbound._send_channel(self.channel, time_budget=5)
        labels = {m.chat_id: m.buttons[0][0].label for m in self.fake.sent if m.buttons}
        self.assertEqual(labels["3003"], "Unsubscribe")
        self.assertNotEqual(labels["3001"], "Unsubscribe")
        self.assertNotEqual(labels["3002"], labels["3001"])

    def test_a_messenger_operator_reads_their_notices_in_their_language(self):
        """A Russian-speaking Telegram operator serves a Ukrainian customer: the moderation answers, the
        brief and the closing notice reach the operator in Russian, the customer's texts in Ukrainian."""
        ru = code_translations.get_python_translations("chatbot_operator", "ru_RU")
        self.operators.write({"status": "inactive"})  # only the messenger operator serves
        self.receive(1, chat=7007, text="/operator", user={"id": 7007, "name": "Taras", "lang": "ru"})
        candidate = self.dialog_of(7007).sender_id
        candidate.with_user(self.bot_admin).action_chatbot_approve()
        self.receive(2, chat=1001, text="/start", user={"id": 1001, "name": "Oksana", "lang": "uk"})
        dialog = self.dialog_of(1001)
        self.assertEqual(dialog.operator_id.sender_id, candidate)
        dialog.action_end()
        self.Outbound._send_channel(self.channel, time_budget=5)
        to_operator = [m.text for m in self.fake.sent if m.chat_id == "7007"]
        self.assertEqual(to_operator[:2], [self.ru["text_moderation"], self.ru["text_approved"]])
        brief = ru["New customer: %(name)s (%(code)s)."] % {"name": "Oksana", "code": dialog.code}
        self.assertTrue(to_operator[2].startswith(brief), to_operator[2])
        closed = ru["The dialog with %(name)s is closed."] % {"name": "Oksana"}
        self.assertEqual(to_operator[-1], closed)
        to_customer = [m.text for m in self.fake.sent if m.chat_id == "1001"]
        self.assertEqual(to_customer[-1], self.uk["text_completed"])
