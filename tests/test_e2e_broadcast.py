"""End-to-end: broadcasts through a real Odoo (two HTTP workers, one cron worker), the fake Telegram and a
fake SMS gateway (Odoo's `sms.endpoint` pointed at a local server). A manager fills the form and sends over
JSON-RPC; the cron workers feed the outbound queue; each chat gets the broadcast once, a chat that blocked
the bot is marked blocked, a 429 holds the bot, those the messenger cannot reach get an SMS."""

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from harness import OdooServer, Rpc, RpcError, load_fake_telegram, odoo_env, registry, wait_for, wait_nudging
from harness import settings as harness_settings

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Broadcast-pw-1"
TEXT = "Spring sale: -20 % on everything!"
_numbers = itertools.count(1)


class FakeSmsGateway(ThreadingHTTPServer):
    """Answers Odoo's SMS API (`/api/sms/3/send`) as IAP does, and records what it was asked to send."""

    def __init__(self):
        self.sent = []
        super().__init__(("127.0.0.1", 0), _SmsHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class _SmsHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        result = []
        for message in body["params"]["messages"]:
            for number in message["numbers"]:
                self.server.sent.append({"number": number["number"], "body": message["content"]})
                result.append({"uuid": number["uuid"], "state": "success", "credit": 1})
        data = json.dumps({"jsonrpc": "2.0", "id": body.get("id"), "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def world():
    conf = harness_settings()
    reg = registry(conf)
    fake_module = load_fake_telegram()
    fake = fake_module.FakeTelegram(retry_delay=0.1, delivery_timeout=10).start()
    sms = FakeSmsGateway()
    with odoo_env(reg) as env:
        env["ir.config_parameter"].set_param("sms.endpoint", sms.url)
    server = OdooServer(conf, workers=2).start()
    try:
        yield SimpleNamespace(conf=conf, reg=reg, fake=fake, fake_module=fake_module, server=server, sms=sms)
    finally:
        server.stop()
        fake.stop()
        sms.shutdown()


def new_user(world, role):
    n = next(_numbers)
    login = f"e2e-broadcast-{role}-{n}"
    with odoo_env(world.reg) as env:
        env["res.users"].create(
            {
                "name": f"Broadcast {role} {n}",
                "login": login,
                "password": PASSWORD,
                "groups_id": [(6, 0, [env.ref(f"chatbot_base.chatbot_base_group_{role}").id])],
            }
        )
    return Rpc(world.server.url, world.conf["db"], login, PASSWORD)


def shop(world, customers=12):
    """An operator bot with a Telegram channel connected to the fake and `customers` senders with contacts
    (chat ids 7_100_001...), as if each had written once."""
    n = next(_numbers)
    token = f"7100{n:04d}:E2E-broadcast-{n}"
    world.fake.add_bot(token, username=f"e2e_broadcast_{n}_bot", first_name="Broadcast shop")
    base = 7_100_000 + n * 1000
    with odoo_env(world.reg) as env:
        bot = env["chatbot.bot"].create({"name": f"Broadcast shop {n}", "bot_type": "operator"})
        channel = env["chatbot.channel"].create(
            {
                "name": f"Broadcast shop {n}",
                "bot_id": bot.id,
                "provider": "telegram",
                "telegram_token": token,
                "telegram_api_url": world.fake.base_url,
                "telegram_public_url": world.server.url,
            }
        )
        channel.action_telegram_connect()
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Customer {i}",
                    "phone": f"+3806712{n:02d}{i:03d}",
                    "city": "Kyiv" if i % 3 else "Lviv",
                }
                for i in range(customers)
            ]
        )
        senders = env["chatbot.sender"].create(
            [
                {
                    "name": partner.name,
                    "channel_id": channel.id,
                    "external_id": str(base + i),
                    "chat_id": str(base + i),
                    "partner_id": partner.id,
                }
                for i, partner in enumerate(partners)
            ]
        )
        return SimpleNamespace(
            token=token,
            bot_id=bot.id,
            channel_id=channel.id,
            chats=[int(s.chat_id) for s in senders],
            sender_ids=senders.ids,
        )


def broadcast_texts(world, shop_, chat_id):
    return [m for m in world.fake.sent_messages(chat_id=chat_id, token=shop_.token) if m.get("text") == TEXT]


def wait_done(world, rpc, broadcast_id, timeout=90):
    def done():
        [values] = rpc.kw("chatbot.broadcast", "read", [broadcast_id], ["state"])
        return values["state"] == "done"

    return wait_for(done, timeout=timeout, interval=0.5)


def test_broadcast_reaches_every_chat_once_blocked_marked_429_honoured(world):
    s = shop(world)
    manager = new_user(world, "manager")
    blocked_chat = s.chats[4]
    world.fake.block_chat(blocked_chat, token=s.token)
    world.fake.fail_next("sendMessage", kind="retry_after", retry_after=2)
    broadcast_id = manager.kw(
        "chatbot.broadcast",
        "create",
        {
            "name": "Spring sale",
            "bot_id": s.bot_id,
            "body": TEXT,
            "button_ids": [
                (0, 0, {"label": "Shop", "button_type": "url", "url": "https://shop.example"}),
                (0, 0, {"label": "Stop", "button_type": "optout"}),
            ],
        },
    )
    [values] = manager.kw("chatbot.broadcast", "read", [broadcast_id], ["recipient_count", "state"])
    assert values == {"id": broadcast_id, "recipient_count": 12, "state": "draft"}
    manager.kw("chatbot.broadcast", "action_send", [broadcast_id])
    assert wait_done(world, manager, broadcast_id), "the broadcast finishes"
    for chat in s.chats:
        expected = 0 if chat == blocked_chat else 1
        assert len(broadcast_texts(world, s, chat)) == expected, f"chat {chat} got it {expected} time(s)"
    message = broadcast_texts(world, s, s.chats[0])[0]
    keyboard = message["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Shop", "Stop"]
    calls = world.fake.calls_for("sendMessage", token=s.token)
    refused = [c for c in calls if c.status == 429]
    assert len(refused) == 1
    after = [c for c in calls if c.time > refused[0].time and c.status != 429]
    assert after and after[0].time - refused[0].time >= 2 - 0.05, "nothing is sent before retry_after passes"
    [totals] = manager.kw(
        "chatbot.broadcast",
        "read",
        [broadcast_id],
        ["total_count", "sent_count", "failed_count", "blocked_count", "queued_count", "progress"],
    )
    assert (totals["total_count"], totals["sent_count"], totals["blocked_count"]) == (12, 11, 1)
    assert (totals["failed_count"], totals["queued_count"], totals["progress"]) == (0, 0, 100.0)
    with odoo_env(world.reg, commit=False) as env:
        recipient = env["chatbot.broadcast.recipient"].search(
            [("broadcast_id", "=", broadcast_id), ("sender_id.chat_id", "=", str(blocked_chat))]
        )
        assert recipient.state == "blocked"
        assert "blocked" in recipient.error
        assert recipient.sender_id.is_blocked


def test_stop_button_then_a_second_broadcast_skips_them(world):
    s = shop(world, customers=3)
    manager = new_user(world, "manager")
    world.fake.push_update(s.token, world.fake.make_message_update(s.chats[1], "/stop"))
    assert wait_for(
        lambda: any(
            "no more broadcasts" in (m.get("text") or "") for m in world.fake.sent_messages(s.chats[1])
        ),
        timeout=30,
    ), "the customer gets the confirmation"
    broadcast_id = manager.kw(
        "chatbot.broadcast", "create", {"name": "Second", "bot_id": s.bot_id, "body": TEXT}
    )
    manager.kw("chatbot.broadcast", "action_send", [broadcast_id])
    assert wait_done(world, manager, broadcast_id)
    assert [len(broadcast_texts(world, s, chat)) for chat in s.chats] == [1, 0, 1]


def test_sms_fallback_and_the_form_filter(world):
    s = shop(world, customers=6)
    manager = new_user(world, "manager")
    with odoo_env(world.reg) as env:
        env["chatbot.sender"].browse(s.sender_ids[0]).is_blocked = True  # Customer 0, Lviv
        never_wrote = env["res.partner"].create({"name": "Taras", "phone": "+380501234567", "city": "Odesa"})
        template = env["sms.template"].create(
            {
                "name": "Sale",
                "model_id": env["ir.model"]._get_id("res.partner"),
                "body": "{{ object.name }}: sale!",
            }
        )
        template_id, taras_phone = template.id, never_wrote.phone_sanitized
    broadcast_id = manager.kw(
        "chatbot.broadcast",
        "create",
        {
            "name": "Lviv and Odesa",
            "bot_id": s.bot_id,
            "sms_template_id": template_id,
            "recipient_domain": "[('partner_id.city', '=', 'Lviv')]",
            "sms_fallback": True,
            "partner_domain": "[('city', '=', 'Odesa'), ('name', '=', 'Taras')]",
        },
    )
    [values] = manager.kw(
        "chatbot.broadcast", "read", [broadcast_id], ["recipient_count", "sms_recipient_count", "body"]
    )
    assert (values["recipient_count"], values["sms_recipient_count"]) == (2, 1), "Customers 0 and 3; Taras"
    assert values["body"] == "{{ object.name }}: sale!"
    manager.kw("chatbot.broadcast", "action_send", [broadcast_id])
    assert wait_done(world, manager, broadcast_id)
    numbers = {sms["number"]: sms["body"] for sms in world.sms.sent}
    assert numbers[taras_phone] == "Taras: sale!"
    assert sorted(numbers.values()) == ["Customer 0: sale!", "Taras: sale!"], "the blocked one and Taras"
    telegram = [m for chat in s.chats for m in world.fake.sent_messages(chat, token=s.token)]
    assert [m["chat"]["id"] for m in telegram] == [s.chats[3]], "Customer 3 by Telegram, Customer 0 by SMS"
    [totals] = manager.kw("chatbot.broadcast", "read", [broadcast_id], ["sent_count", "total_count"])
    assert (totals["sent_count"], totals["total_count"]) == (3, 3)


def test_users_cannot_send_broadcasts(world):
    s = shop(world, customers=1)
    user = new_user(world, "user")
    with pytest.raises(RpcError) as error:
        user.kw("chatbot.broadcast", "create", {"name": "Nope", "bot_id": s.bot_id, "body": TEXT})
    assert error.value.name == "odoo.exceptions.AccessError"


def test_worker_killed_during_a_broadcast_resumes_and_sends_nobody_twice(world):
    """SIGKILL every worker while the broadcast is being sent (kept last in this module: the server's
    workers are new afterwards). The new cron worker fails the round the dead one left 'sending' (delivery
    unknown, at most one round) and sends the rest; nobody gets the broadcast twice, the broadcast ends."""
    customers = 120
    s = shop(world, customers=customers)
    with odoo_env(world.reg) as env:
        env["chatbot.channel"].browse(s.channel_id).telegram_rate_limit = 20  # about 6 s of sending
    manager = new_user(world, "manager")
    broadcast_id = manager.kw(
        "chatbot.broadcast", "create", {"name": "Killed", "bot_id": s.bot_id, "body": TEXT}
    )
    manager.kw("chatbot.broadcast", "action_send", [broadcast_id])

    def received():
        return {chat: len(broadcast_texts(world, s, chat)) for chat in s.chats}

    assert wait_for(lambda: sum(received().values()) >= 25, timeout=60), "the broadcast is under way"
    killed = set(world.server.worker_pids())
    world.server.kill_workers()
    before_restart = sum(received().values())
    assert before_restart < customers, "killed in the middle"
    assert wait_for(lambda: len(set(world.server.worker_pids()) - killed) >= 3, timeout=30), (
        "the master started new workers (two HTTP, one cron)"
    )

    def finished():
        with odoo_env(world.reg, commit=False) as env:
            return env["chatbot.broadcast"].browse(broadcast_id).state == "done"

    # the new cron worker sleeps before its first poll unless woken
    crons = ["chatbot_base.ir_cron_chatbot_outbound_send", "chatbot_operator.ir_cron_chatbot_broadcast_send"]
    assert wait_nudging(world.reg, crons, finished, timeout=120), "the broadcast finishes after the restart"
    got = received()
    assert max(got.values()) == 1, "nobody got the broadcast twice"
    with odoo_env(world.reg, commit=False) as env:
        recipients = env["chatbot.broadcast.recipient"].search([("broadcast_id", "=", broadcast_id)])
        sent = recipients.filtered(lambda r: r.state == "sent")
        unknown = recipients.filtered(lambda r: r.state == "failed" and "delivery unknown" in (r.error or ""))
        assert len(sent) + len(unknown) == customers, "every recipient ends sent or in doubt"
        # the dead worker's round: at most 0.1 s of messages at 20/s (2); none left when killed between rounds
        assert len(unknown) <= 2
        sent_chats = {int(r.sender_id.chat_id) for r in sent}
        delivered = {chat for chat, count in got.items() if count}
        assert sent_chats <= delivered, "a recipient marked sent got the message"
        assert len(delivered - sent_chats) <= len(unknown), "only the doubtful ones may have got it unmarked"
        assert sum(got.values()) > before_restart, "the new workers sent the rest"
