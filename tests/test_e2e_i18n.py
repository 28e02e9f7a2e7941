"""End-to-end: a Telegram customer whose app speaks Ukrainian (language_code "uk") talks to the demo Kyiv
shop through a real Odoo (two HTTP workers, cron) where Ukrainian is installed, and reads the whole
consultation in Ukrainian: the bot's unedited texts, the demo flow and its buttons, an input error, the
hand-over to an operator, the end."""

import re
from types import SimpleNamespace

import pytest
from harness import odoo_env, registry, set_online, settings, telegram_channel, telegram_world
from test_e2e_operator import new_user, rpc_as, say, wait_texts

pytestmark = pytest.mark.e2e

TOKEN = "9878000001:E2E-i18n"
CYRILLIC = re.compile("[а-яіїєґ]", re.IGNORECASE)


@pytest.fixture(scope="module")
def world():
    # Ukrainian installed as Settings > Languages does, with the Bots addons' translations, before the server
    # starts. It stays installed, as in a shop's database: the other modules' customers write from Telegram
    # apps in English.
    reg = registry(settings())  # configures Odoo's addons path first
    from odoo.addons.chatbot_operator.tests.test_i18n import install_languages

    with odoo_env(reg) as env:
        install_languages(env, "uk_UA")
    with telegram_world() as world:
        yield world


def test_a_ukrainian_customer_reads_the_demo_shop_in_ukrainian(world):
    world.fake.add_bot(TOKEN, username="e2e_kyiv_uk_bot", first_name="Київська крамниця")
    operator_id, operator_login = new_user(world, "Olena Operator", ["chatbot_base.chatbot_base_group_user"])
    with odoo_env(world.reg) as env:
        kyiv = env.ref("chatbot_base.demo_bot_client")
        consultations = kyiv.operator_bot_id
        # the demo operators step aside for the one operator of this test (put back at the end)
        demo_statuses = {operator.id: operator.status for operator in consultations.operator_ids}
        consultations.operator_ids.status = "inactive"
        bot = telegram_channel(env, kyiv, world.fake, world.server, "E2E Kyiv in Ukrainian", TOKEN)
        uk = kyiv.with_context(lang="uk_UA")
        expected = {
            "not_found": uk._chatbot_text("text_not_found"),
            "hello": env.ref("chatbot_client.demo_step_hello").with_context(lang="uk_UA").text,
            "question": env.ref("chatbot_client.demo_step_question").with_context(lang="uk_UA").text,
            "answers": env.ref("chatbot_client.demo_step_question")
            .with_context(lang="uk_UA")
            .answer_ids.mapped("name"),
            "calling": env.ref("chatbot_client.demo_step_operator").with_context(lang="uk_UA").text,
            "connected": uk._chatbot_text("text_connected"),
            "how_to_end": uk._chatbot_text("text_how_to_end"),
            "completed": uk._chatbot_text("text_completed"),
        }
    bot = SimpleNamespace(token=TOKEN, **bot)
    try:
        for key, text in expected.items():
            assert CYRILLIC.search(str(text)), f"{key} has no Ukrainian translation: {text!r}"
        operator = rpc_as(world, operator_login)
        operator.kw("chatbot.bot", "action_join", [consultations.id])
        assert operator.kw("chatbot.operator", "chatbot_set_my_status", "active")["status"] == "active"
        with odoo_env(world.reg) as env:
            set_online(env, [operator_id])

        chat = 74001
        user = world.fake_module.default_user(
            chat, first_name="Оксана", last_name="Коваль", language_code="uk"
        )
        say(world, bot, chat, "Добрий день", user)
        assert wait_texts(world, bot, chat, 1) == [expected["not_found"]]

        say(world, bot, chat, "/start", user)
        got = wait_texts(world, bot, chat, 3)
        assert got[1:3] == [expected["hello"].replace("{name}", "Оксана Коваль"), expected["question"]]
        question = world.fake.sent_messages(chat_id=chat, token=TOKEN)[2]
        keyboard = question["reply_markup"]["inline_keyboard"]
        assert [row[0]["text"] for row in keyboard] == expected["answers"]

        # "Talk to a consultant", in Ukrainian: the flow calls an operator, who connects
        world.fake.push_update(
            TOKEN,
            world.fake.make_callback_update(
                chat, keyboard[-1][0]["callback_data"], question["message_id"], user
            ),
        )
        got = wait_texts(world, bot, chat, 6)
        assert got[3:6] == [
            expected["calling"].replace("{name}", "Оксана Коваль"),
            f"Olena Operator {expected['connected']}",
            expected["how_to_end"],
        ]
        say(world, bot, chat, "/end", user)
        assert wait_texts(world, bot, chat, 7)[6] == expected["completed"]
        with odoo_env(world.reg) as env:
            dialog = env["chatbot.dialog"].search([("sender_id.external_id", "=", str(chat))], limit=1)
            assert dialog.partner_id.lang == "uk_UA", "the contact made from the profile speaks Ukrainian"
    finally:
        # the demo shop as it was, for the modules that count its dialogs, chats, senders and operators
        with odoo_env(world.reg) as env:
            env["chatbot.sender"].search([("channel_id", "=", bot.channel_id)]).unlink()  # their dialogs too
            env["chatbot.channel"].browse(bot.channel_id).unlink()
            env["chatbot.operator"].with_context(active_test=False).search(
                [("user_id", "=", operator_id), ("bot_id", "=", consultations.id)]
            ).unlink()
            for operator_id_, status in demo_statuses.items():
                env["chatbot.operator"].browse(operator_id_).status = status
