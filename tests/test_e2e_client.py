"""End-to-end: a client bot's flow through a real Odoo (two HTTP workers, cron) and the fake Telegram.

A Bots manager builds the flow over JSON-RPC; a customer presses Start, answers with a button, types a wrong
then shares the right phone number; the flow creates the lead (description, salesperson) and hands the
customer over to the operator bot; the Odoo operator answers in Discuss and the customer receives it."""

import itertools
from types import SimpleNamespace

import pytest
from harness import set_online, wait_for
from test_e2e_operator import customer, new_user, odoo_env, rpc_as, say, texts, wait_texts, world  # noqa: F401

pytestmark = pytest.mark.e2e

_numbers = itertools.count(1)
PHONE_PROMPT = "Your phone number, please?"
REASK = "That does not look like a phone number. Please write it again, e.g. +380 67 123 4567."


def client_world(world):  # noqa: F811 - the fixture, imported above
    """An operator bot with one Odoo operator who joined over JSON-RPC, and a client bot on Telegram linked to
    it, its flow built by a Bots manager over JSON-RPC."""
    n = next(_numbers)
    token = f"9877{n:05d}:E2E-client-{n}"
    world.fake.add_bot(token, username=f"e2e_client_{n}_bot", first_name="Kyiv shop")
    seller_id, _login = new_user(world, f"Sofia Seller {n}", ["sales_team.group_sale_salesman"])
    operator_id, operator_login = new_user(
        world, f"Oksana Operator {n}", ["chatbot_base.chatbot_base_group_user"]
    )
    manager_id, manager_login = new_user(
        world,
        f"Marta Manager {n}",
        ["chatbot_base.chatbot_base_group_manager", "sales_team.group_sale_salesman"],
    )
    with odoo_env(world.reg) as env:
        operator_bot = env["chatbot.bot"].create({"name": f"E2E consultations {n}", "bot_type": "operator"})
        client = env["chatbot.bot"].create(
            {"name": f"E2E Kyiv shop {n}", "bot_type": "client", "operator_bot_id": operator_bot.id}
        )
        channel = env["chatbot.channel"].create(
            {
                "name": f"E2E Kyiv shop {n}",
                "bot_id": client.id,
                "provider": "telegram",
                "telegram_token": token,
                "telegram_api_url": world.fake.base_url,
                "telegram_public_url": world.server.url,
            }
        )
        channel.action_telegram_connect()
        team = env["crm.team"].create({"name": f"Telegram sales {n}"})
        ids = SimpleNamespace(
            operator_bot_id=operator_bot.id,
            bot_id=client.id,
            channel_id=channel.id,
            team_id=team.id,
            seller_id=seller_id,
            operator_id=operator_id,
        )
    manager = rpc_as(world, manager_login)
    assert manager.uid == manager_id

    def step(values):
        (step_id,) = manager.kw("chatbot.step", "create", [{"bot_id": ids.bot_id, **values}])
        return step_id

    # created from the last step up, so each names the step it goes to
    hand_over = step({"sequence": 50, "step_type": "operator", "text": "Connecting you to a consultant."})
    step(
        {
            "sequence": 40,
            "step_type": "create_lead",
            "text": "Thank you! We will call {phone}.",
            "lead_team_id": ids.team_id,
            "lead_user_id": ids.seller_id,
            "next_step_id": hand_over,
        }
    )
    step(
        {
            "sequence": 30,
            "step_type": "input",
            "input_type": "phone",
            "variable_name": "phone",
            "text": PHONE_PROMPT,
        }
    )
    step(
        {
            "sequence": 20,
            "step_type": "question",
            "text": "What brings you here?",
            "variable_name": "topic",
            "answer_ids": [
                (0, 0, {"name": "Buy a sofa", "sequence": 1}),
                (0, 0, {"name": "Talk", "next_step_id": hand_over}),
            ],
        }
    )
    step({"sequence": 10, "step_type": "message", "text": "Hello, {name}! This is the Kyiv shop."})
    problems = manager.kw("chatbot.bot", "read", [ids.bot_id], ["flow_problems"])[0]["flow_problems"]
    assert not problems, problems
    operator = rpc_as(world, operator_login)
    operator.kw("chatbot.bot", "action_join", [ids.operator_bot_id])
    with odoo_env(world.reg) as env:
        set_online(env, [ids.operator_id])
        channel = env["chatbot.channel"].browse(ids.channel_id)
        ids.secret = channel.telegram_webhook_secret
    return SimpleNamespace(token=token, operator=operator, **vars(ids))


def test_start_buttons_phone_lead_hand_over_operator_answer(world):  # noqa: F811
    bot = client_world(world)
    chat = 73001
    user = customer(world, chat, "Ivanna", "Koval")
    say(world, bot, chat, "/start", user)
    got = wait_texts(world, bot, chat, 2)
    assert got == ["Hello, Ivanna Koval! This is the Kyiv shop.", "What brings you here?"]

    # the question carries its answers as inline buttons; the customer presses the first
    question = world.fake.sent_messages(chat_id=chat, token=bot.token)[1]
    keyboard = question["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Buy a sofa", "Talk"]
    world.fake.push_update(
        bot.token,
        world.fake.make_callback_update(chat, keyboard[0][0]["callback_data"], question["message_id"], user),
    )
    got = wait_texts(world, bot, chat, 3)
    assert got[2] == PHONE_PROMPT
    assert wait_for(lambda: world.fake.calls_for("answerCallbackQuery", token=bot.token), timeout=30), (
        "the button press is answered"
    )
    prompt = world.fake.calls_for("sendMessage", chat, token=bot.token)[-1]
    assert prompt.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True, "a share-phone button"

    # a wrong number, then the right one shared with the button
    say(world, bot, chat, "call me maybe", user)
    got = wait_texts(world, bot, chat, 4)
    assert got[3] == f"{REASK}\n\n{PHONE_PROMPT}"
    world.fake.push_update(bot.token, world.fake.make_contact_update(chat, "380671234567", user))

    got = wait_texts(world, bot, chat, 7)
    with odoo_env(world.reg) as env:
        dialog = env["chatbot.dialog"].search(
            [("bot_id", "=", bot.bot_id), ("sender_id.external_id", "=", str(chat))], limit=1
        )
        lead = dialog.lead_id
        assert lead, "the flow created a lead"
        assert lead.partner_id == dialog.partner_id and lead.partner_id.name == "Ivanna Koval"
        assert lead.user_id.id == bot.seller_id, "the step's salesperson, not the technical user"
        assert lead.team_id.id == bot.team_id
        assert "What brings you here? <b>Buy a sofa</b>" in lead.description
        assert "<b>+380671234567</b>" in lead.description
        assert "call me maybe" in lead.description, "what the customer wrote before an operator answered"
        assert dialog.partner_id.phone == "+380671234567"
        assert dialog.state == "active"
        assert dialog.operator_bot_id.id == bot.operator_bot_id
        assert dialog.operator_id.user_id.id == bot.operator_id
        conversation_id = dialog.discuss_channel_id.id
        assert conversation_id
        operator_name = dialog.operator_id.name
    assert got[4:7] == [
        "Thank you! We will call +380671234567.",
        "Connecting you to a consultant.",
        f"{operator_name} connected to chat. Please start messaging!",
    ]

    # the operator answers in Discuss, as themselves; the customer receives it in Telegram
    bot.operator.kw(
        "discuss.channel",
        "message_post",
        [conversation_id],
        body="Hello Ivanna, which sofa do you like?",
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )
    got = wait_texts(world, bot, chat, 9)
    assert got[-1] == "Hello Ivanna, which sofa do you like?"
    assert texts(world, bot, chat).count("Hello Ivanna, which sofa do you like?") == 1
