"""End-to-end: consultation bots ("Operator Chat") through a real Odoo (two HTTP workers, one cron worker)
and the fake Telegram. Customers write from Telegram; Odoo operators join, answer in Discuss and are
approved over JSON-RPC as themselves; messenger operators answer from their own Telegram chat."""

import itertools
import threading
import time
from types import SimpleNamespace

import pytest
from harness import (
    Rpc,
    RpcError,
    odoo_env,
    post_json,
    set_online,
    telegram_channel,
    telegram_world,
    wait_for,
    wait_nudging,
)
from psycopg2.extensions import TransactionRollbackError

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-Operator-pw-1"
CONNECTED = "connected to chat. Please start messaging!"
HOW_TO_END = "If you would like to end your consultation Press: /end"
COMPLETED = "Consultation completed"
_numbers = itertools.count(1)
_update_ids = itertools.count(9_300_000)


@pytest.fixture(scope="module")
def world():
    with telegram_world() as world:
        yield world


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def new_user(world, name, groups):
    """An internal user with a known password; returns (id, login)."""
    n = next(_numbers)
    login = f"e2e-operator-{n}"
    with odoo_env(world.reg) as env:
        user = env["res.users"].create(
            {
                "name": name,
                "login": login,
                "password": PASSWORD,
                "groups_id": [(6, 0, [env.ref(xmlid).id for xmlid in groups])],
            }
        )
        return user.id, login


def rpc_as(world, login):
    return Rpc(world.server.url, world.conf["db"], login, PASSWORD)


def operator_bot(world, title, operators=(), **settings):
    """A consultation bot with a Telegram channel connected to the fake, and Odoo users (one per name in
    `operators`, in the Bots User group) who joined it themselves over JSON-RPC."""
    n = next(_numbers)
    token = f"9876{n:05d}:E2E-operator-{n}"
    world.fake.add_bot(token, username=f"e2e_consult_{n}_bot", first_name=title)
    with odoo_env(world.reg) as env:
        bot = env["chatbot.bot"].create({"name": f"{title} {n}", "bot_type": "operator", **settings})
        ids = SimpleNamespace(**telegram_channel(env, bot, world.fake, world.server, f"{title} {n}", token))
    users = {}
    for name in operators:
        user_id, login = new_user(world, name, ["chatbot_base.chatbot_base_group_user"])
        rpc = rpc_as(world, login)
        assert rpc.uid == user_id
        rpc.kw("chatbot.bot", "action_join", [ids.bot_id])
        users[user_id] = SimpleNamespace(id=user_id, name=name, login=login, rpc=rpc)
    with odoo_env(world.reg) as env:
        set_online(env, list(users))
    return SimpleNamespace(token=token, users=users, **vars(ids))


def customer(world, chat_id, first_name="Ada", last_name="Lovelace"):
    return world.fake_module.default_user(chat_id, first_name=first_name, last_name=last_name)


def say(world, bot, chat_id, text, user=None):
    """The person of `chat_id` writes `text` to the bot in Telegram (delivered to the webhook)."""
    world.fake.push_update(bot.token, world.fake.make_message_update(chat_id, text, user))


def texts(world, bot, chat_id):
    """What the bot sent to the chat in Telegram, in order."""
    return [m.get("text") for m in world.fake.sent_messages(chat_id=chat_id, token=bot.token)]


def wait_texts(world, bot, chat_id, count, timeout=60):
    """The chat's texts once it received at least `count` of them (or what it got after `timeout`)."""
    wait_for(lambda: len(texts(world, bot, chat_id)) >= count, timeout=timeout)
    return texts(world, bot, chat_id)


def settled(world, bot):
    """Whether the server finished with the bot's channel: every update processed, every message sent
    and its delivery recorded (a later transaction must not race with those commits)."""
    with odoo_env(world.reg) as env:
        channel = [("channel_id", "=", bot.channel_id)]
        pending = env["chatbot.inbound"].search_count([*channel, ("state", "=", "pending")])
        unsent = env["chatbot.outbound"].search_count([*channel, ("state", "in", ("queued", "sending"))])
        return not pending and not unsent


def dialogs_of(env, bot):
    return env["chatbot.dialog"].search([("bot_id", "=", bot.bot_id)], order="id")


def dialog_of(env, bot, chat_id):
    return env["chatbot.dialog"].search(
        [("bot_id", "=", bot.bot_id), ("sender_id.external_id", "=", str(chat_id))], order="id desc", limit=1
    )


def dialog_state(world, bot, chat_id):
    with odoo_env(world.reg) as env:
        return dialog_of(env, bot, chat_id).state


def start_at_once(world, bot, chats):
    """Every chat sends /start at the same moment: one thread per webhook call, released together."""
    updates = []
    for chat_id in chats:
        update = world.fake.make_message_update(chat_id, "/start")
        update["update_id"] = next(_update_ids)
        updates.append(update)
    barrier = threading.Barrier(len(updates))
    statuses = []

    def post(update):
        barrier.wait(10)
        statuses.append(post_json(bot.webhook, update, bot.secret)[0])

    threads = [threading.Thread(target=post, args=(update,)) for update in updates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


class LoadWatcher(threading.Thread):
    """Samples, while routing goes on, the highest load an operator of the bot ever had: the stored
    active_dialog_count and the real number of their active dialogs."""

    def __init__(self, reg, bot_id):
        super().__init__(daemon=True)
        self.reg, self.bot_id = reg, bot_id
        self.max_count = self.max_dialogs = 0
        self.samples = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            with self.reg.cursor() as cr:
                cr.execute(
                    "SELECT COALESCE(max(active_dialog_count), 0) FROM chatbot_operator WHERE bot_id = %s",
                    [self.bot_id],
                )
                self.max_count = max(self.max_count, cr.fetchone()[0])
                cr.execute(
                    """SELECT COALESCE(max(n), 0) FROM (
                           SELECT count(*) AS n FROM chatbot_dialog
                            WHERE operator_bot_id = %s AND state = 'active' GROUP BY operator_id) q""",
                    [self.bot_id],
                )
                self.max_dialogs = max(self.max_dialogs, cr.fetchone()[0])
            self.samples += 1
            self.done.wait(0.05)

    def stop(self):
        self.done.set()
        self.join(10)


# ------------------------------------------------------------------------------------------------
# 1. A customer, an Odoo operator in Discuss
# ------------------------------------------------------------------------------------------------


def test_customer_talks_with_an_odoo_operator_in_discuss_then_ends(world):
    bot = operator_bot(world, "E2E consult", operators=["Olha Operator", "Petro Operator"])
    chat = 72001
    say(world, bot, chat, "/start", customer(world, chat, "Ivanna", "Customer"))
    greeting = wait_texts(world, bot, chat, 2)
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        assert dialog.state == "active"
        operator = dialog.operator_id
        assert operator.user_id.id in bot.users, "one of the two operators who joined"
        assert operator.active_dialog_count == 1
        conversation = dialog.discuss_channel_id
        assert conversation, "the dialog has its Discuss conversation"
        # chatbot_livechat is installed: a live chat session of the bot's live chat, so that it pops up
        assert conversation.channel_type == "livechat"
        assert conversation.livechat_channel_id == dialog.operator_bot_id.livechat_channel_id
        assert operator.user_id.partner_id in conversation.channel_member_ids.partner_id
        operator_name, channel_id = operator.name, conversation.id
        rpc = bot.users[operator.user_id.id].rpc
    assert greeting == [f"{operator_name} {CONNECTED}", HOW_TO_END]

    # the customer's words appear in the operator's conversation
    say(world, bot, chat, "My parcel did not arrive")

    def customer_message_in_discuss():
        with odoo_env(world.reg) as env:
            bodies = env["mail.message"].search(
                [("model", "=", "discuss.channel"), ("res_id", "=", channel_id)]
            )
            return any("My parcel did not arrive" in (m.body or "") for m in bodies)

    assert wait_for(customer_message_in_discuss, timeout=60)

    # the operator answers in Discuss, as themselves: the customer gets it in Telegram
    rpc.kw(
        "discuss.channel",
        "message_post",
        [channel_id],
        body="Hello Ivanna, I am checking your parcel",
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )
    got = wait_texts(world, bot, chat, 3)
    assert got[2:] == ["Hello Ivanna, I am checking your parcel"]

    say(world, bot, chat, "/end")
    got = wait_texts(world, bot, chat, 4)
    assert got == [
        f"{operator_name} {CONNECTED}",
        HOW_TO_END,
        "Hello Ivanna, I am checking your parcel",
        COMPLETED,
    ]
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        assert dialog.state == "closed"
        assert dialog.close_reason == "customer"
        assert dialog.operator_id.active_dialog_count == 0

    # the conversation of a closed dialog refuses answers: the customer would not get them
    with pytest.raises(RpcError) as refused:
        rpc.kw(
            "discuss.channel",
            "message_post",
            [channel_id],
            body="Anything else?",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
    assert refused.value.name == "odoo.exceptions.UserError"
    with odoo_env(world.reg) as env:
        assert not env["chatbot.outbound"].search(
            [("channel_id", "=", bot.channel_id), ("chat_id", "=", str(chat)), ("state", "!=", "sent")]
        )


# ------------------------------------------------------------------------------------------------
# 2. The queue
# ------------------------------------------------------------------------------------------------


def test_second_customer_waits_in_the_queue_until_the_first_ends(world):
    bot = operator_bot(world, "E2E queue", operators=["Queue Operator"], max_parallel_chats=1)
    first, second = 72101, 72102
    say(world, bot, first, "/start")
    assert wait_texts(world, bot, first, 2) == [f"Queue Operator {CONNECTED}", HOW_TO_END]

    say(world, bot, second, "/start", customer(world, second, "Bohdan", "Second"))
    assert wait_texts(world, bot, second, 1) == ["All operators are busy. You are number 1 in the queue."]
    assert dialog_state(world, bot, second) == "waiting"

    say(world, bot, first, "/end")
    assert wait_texts(world, bot, first, 3)[2:] == [COMPLETED]
    assert wait_texts(world, bot, second, 3) == [
        "All operators are busy. You are number 1 in the queue.",
        f"Queue Operator {CONNECTED}",
        HOW_TO_END,
    ]
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, second)
        assert dialog.state == "active"
        assert dialog.operator_id.user_id.id in bot.users
        assert dialog.operator_id.active_dialog_count == 1
        assert dialog_of(env, bot, first).state == "closed"


# ------------------------------------------------------------------------------------------------
# 3. Routing many customers at the same moment
# ------------------------------------------------------------------------------------------------


def _route_at_once(world, bot, chats, active, max_load):
    watcher = LoadWatcher(world.reg, bot.bot_id)
    watcher.start()
    try:
        assert start_at_once(world, bot, chats) == [200] * len(chats)

        def routed():
            with odoo_env(world.reg) as env:
                states = dialogs_of(env, bot).mapped("state")
                return len(states) == len(chats) and "bot" not in states

        assert wait_for(routed, timeout=60), "every customer got an operator or a place in the queue"
        # what each customer was told reached them
        assert wait_for(lambda: all(texts(world, bot, chat_id) for chat_id in chats), timeout=60), (
            "every customer heard from the bot"
        )
    finally:
        watcher.stop()
    assert watcher.samples > 0
    with odoo_env(world.reg) as env:
        dialogs = dialogs_of(env, bot)
        busy = dialogs.filtered(lambda d: d.state == "active")
        waiting = dialogs.filtered(lambda d: d.state == "waiting")
        assert len(busy) == active
        assert len(waiting) == len(chats) - active
        operators = env["chatbot.operator"].search([("bot_id", "=", bot.bot_id)])
        for operator in operators:
            mine = busy.filtered(lambda d, operator=operator: d.operator_id == operator)
            assert operator.active_dialog_count == len(mine) <= max_load, operator.name
        chats_by_state = {
            state: sorted(int(d.sender_id.external_id) for d in dialogs if d.state == state)
            for state in ("active", "waiting")
        }
    assert watcher.max_count <= max_load, "an operator's load went above the limit"
    assert watcher.max_dialogs <= max_load, "an operator had more active dialogs than the limit"
    for chat_id in chats_by_state["active"]:
        got = wait_texts(world, bot, chat_id, 2)
        assert got[0].endswith(CONNECTED) and got[1:] == [HOW_TO_END], got
    positions = []
    for chat_id in chats_by_state["waiting"]:
        got = texts(world, bot, chat_id)
        assert len(got) == 1 and got[0].startswith("All operators are busy."), got
        positions.append(int(got[0].split("number ")[1].split()[0]))
    assert sorted(positions) == list(range(1, len(chats) - active + 1)), "each told a distinct place"


def test_ten_customers_at_once_one_operator_takes_exactly_one(world):
    bot = operator_bot(world, "E2E rush one", operators=["Rush Operator"], max_parallel_chats=1)
    _route_at_once(world, bot, list(range(72201, 72211)), active=1, max_load=1)


def test_ten_customers_at_once_three_operators_take_two_each(world):
    bot = operator_bot(
        world, "E2E rush three", operators=["Rush A", "Rush B", "Rush C"], max_parallel_chats=2
    )
    _route_at_once(world, bot, list(range(72301, 72311)), active=6, max_load=2)


def _cursor_env(reg):
    from odoo import SUPERUSER_ID, api

    cr = reg.cursor()
    return cr, api.Environment(cr, SUPERUSER_ID, {})


def test_a_second_router_skips_the_operator_the_first_holds(world):
    """Two transactions route at the same moment: the second does not wait for the first's lock on the
    only operator (SKIP LOCKED), it finds nobody."""
    bot = operator_bot(world, "E2E lock", operators=["Lock Operator"], max_parallel_chats=1)
    cr_a, env_a = _cursor_env(world.reg)
    cr_b, env_b = _cursor_env(world.reg)
    try:
        cr_b.execute("SET LOCAL lock_timeout = '5s'")  # blocking would fail the test, not hang it
        picked = env_a["chatbot.bot"].browse(bot.bot_id)._chatbot_pick_operator()
        assert picked.user_id.id in bot.users
        started = time.monotonic()
        other = env_b["chatbot.bot"].browse(bot.bot_id)._chatbot_pick_operator()
        assert time.monotonic() - started < 2, "the second router did not wait for the lock"
        assert not other, "the operator held by the first router is skipped"
    finally:
        cr_a.rollback()
        cr_b.rollback()
        cr_a.close()
        cr_b.close()
    # nothing was assigned: the operator is free again for the next router
    with odoo_env(world.reg, commit=False) as env:
        assert env["chatbot.bot"].browse(bot.bot_id)._chatbot_pick_operator() == picked.with_env(env)


def test_a_router_with_an_older_snapshot_fails_to_serialize_and_never_assigns_twice(world):
    """A assigns the only place of the only operator and commits while B's transaction had already taken
    its snapshot (where the operator still had room): B's routing raises a serialization failure, so the
    inbound queue retries it on a new snapshot, where the customer goes to the queue."""
    bot = operator_bot(world, "E2E snapshot", operators=["Snapshot Operator"], max_parallel_chats=1)
    first, second = 72401, 72402
    for chat_id in (first, second):
        say(world, bot, chat_id, "hello")
    for chat_id in (first, second):
        assert wait_texts(world, bot, chat_id, 1) == ["Press /start to talk."]
    assert wait_for(lambda: settled(world, bot), timeout=60)
    cr_a, env_a = _cursor_env(world.reg)
    cr_b, env_b = _cursor_env(world.reg)
    try:
        cr_b.execute("SET LOCAL lock_timeout = '5s'")
        # B's snapshot: the operator has room
        cr_b.execute("SELECT active_dialog_count FROM chatbot_operator WHERE bot_id = %s", [bot.bot_id])
        assert cr_b.fetchall() == [(0,)]
        dialog_a = dialog_of(env_a, bot, first)
        operator = dialog_a._chatbot_request_operator()
        assert operator and dialog_a.state == "active"
        cr_a.commit()
        dialog_b = dialog_of(env_b, bot, second)
        assert dialog_b.state == "bot"
        with pytest.raises(TransactionRollbackError):
            dialog_b._chatbot_request_operator()
        cr_b.rollback()
        # the retry, on a new snapshot: the operator is full, the customer waits
        dialog_b = dialog_of(env_b, bot, second)
        assert not dialog_b._chatbot_request_operator()
        assert dialog_b.state == "waiting"
        cr_b.commit()
    finally:
        cr_a.rollback()
        cr_b.rollback()
        cr_a.close()
        cr_b.close()
    with odoo_env(world.reg) as env:
        # the two first messages were processed in either order: the dialogs are told apart by customer
        dialog_a, dialog_b = dialog_of(env, bot, first), dialog_of(env, bot, second)
        assert (dialog_a.state, dialog_b.state) == ("active", "waiting")
        assert len(dialogs_of(env, bot)) == 2
        assert dialog_a.operator_id.active_dialog_count == 1
        assert not dialog_b.operator_id
    assert wait_texts(world, bot, first, 3)[1:] == [f"Snapshot Operator {CONNECTED}", HOW_TO_END]
    assert wait_texts(world, bot, second, 2)[1:] == ["All operators are busy. You are number 1 in the queue."]


def test_routing_conflict_in_the_server_is_retried_within_seconds(world):
    """The server routes a new customer while the operator changes their status in the systray: the routing
    transaction's snapshot predates that commit, so locking the operator's row fails to serialize. The
    update is not lost (processed again, once) and the customer is answered within seconds, not at the
    cron worker's next minute."""
    fake = world.fake
    bot = operator_bot(world, "E2E conflict", operators=["Conflict Operator"], max_parallel_chats=1)
    desk = next(iter(bot.users.values()))
    chat = 72451
    # a new customer: creating their contact asks Telegram for the profile picture, after the processing
    # transaction took its snapshot and before it routes; that call hangs 4 s, then fails (no picture)
    hang = 4
    fake.fail_next("getUserProfilePhotos", kind="hang", seconds=hang)
    asked = len(fake.calls_for("getUserProfilePhotos", token=bot.token))
    say(world, bot, chat, "/start", customer(world, chat, "Roman", "Racer"))
    assert wait_for(
        lambda: len(fake.calls_for("getUserProfilePhotos", token=bot.token)) > asked, timeout=60
    ), "the server started processing the customer's /start"
    hung_at = time.monotonic()
    # meanwhile the operator (re)sets their status from the systray: their row changes and commits
    assert desk.rpc.kw("chatbot.operator", "chatbot_set_my_status", "active")["status"] == "active"
    assert time.monotonic() - hung_at < hang, "the status change committed while the routing was held"

    def inbound():
        with odoo_env(world.reg) as env:
            row = env["chatbot.inbound"].search(
                [("channel_id", "=", bot.channel_id)], order="id desc", limit=1
            )
            return row.state, row.attempts, row.error or ""

    assert wait_for(lambda: inbound()[1] >= 1, timeout=60), "the first attempt ended"
    state, attempts, error = inbound()
    assert attempts == 2 or "SerializationFailure" in error, (state, attempts, error)
    greeted = wait_for(lambda: len(texts(world, bot, chat)) >= 2, timeout=60)
    waited = time.monotonic() - hung_at - hang
    state, attempts, error = inbound()
    assert greeted and waited < 15, (
        f"the customer's /start, which failed to serialize, was still not answered {waited:.0f} s later "
        f"(inbound {state}, {attempts} attempt(s), {error.strip()})"
    )
    assert (state, attempts) == ("done", 2), "processed again, once"
    assert texts(world, bot, chat) == [f"Conflict Operator {CONNECTED}", HOW_TO_END]
    with odoo_env(world.reg) as env:
        dialogs = dialogs_of(env, bot)
        assert dialogs.mapped("state") == ["active"]
        assert dialogs.operator_id.active_dialog_count == 1


# ------------------------------------------------------------------------------------------------
# 4. A messenger operator
# ------------------------------------------------------------------------------------------------


def test_messenger_operator_is_approved_then_serves_a_customer_from_telegram(world):
    bot = operator_bot(world, "E2E messenger", operators=["Desk Operator"])
    candidate, client = 72501, 72502
    taras = world.fake_module.default_user(candidate, first_name="Taras", last_name="Helper")
    say(world, bot, candidate, "/operator", taras)
    assert wait_texts(world, bot, candidate, 1) == ["Please wait for approval you as consultant"]
    with odoo_env(world.reg) as env:
        sender = env["chatbot.sender"].search(
            [("channel_id", "=", bot.channel_id), ("external_id", "=", str(candidate))]
        )
        assert sender.operator_request_state == "pending"
        sender_id = sender.id

    # a Bots user may not approve; an administrator does
    desk = next(iter(bot.users.values()))
    with pytest.raises(RpcError) as refused:
        desk.rpc.kw("chatbot.sender", "action_chatbot_approve", [sender_id])
    assert refused.value.name == "odoo.exceptions.AccessError"
    _admin_id, admin_login = new_user(world, "Bots Admin", ["chatbot_base.chatbot_base_group_admin"])
    rpc_as(world, admin_login).kw("chatbot.sender", "action_chatbot_approve", [sender_id])
    assert wait_texts(world, bot, candidate, 2)[1:] == ["You Approved"]

    # the Odoo operator goes Inactive from their systray: only the messenger operator serves
    assert desk.rpc.kw("chatbot.operator", "chatbot_set_my_status", "inactive")["status"] == "inactive"
    say(world, bot, client, "/start", customer(world, client, "Marta", "Client"))
    got = wait_texts(world, bot, client, 2)
    assert got == [f"Taras Helper {CONNECTED}", HOW_TO_END]
    with odoo_env(world.reg) as env:
        code = dialog_of(env, bot, client).code
    assert wait_texts(world, bot, candidate, 3)[2:] == [
        f"New customer: Marta Client ({code}).\n> /start\n"
        "Answer here; /end closes the dialog, /transfer hands it on, /help lists the commands."
    ]

    say(world, bot, candidate, "Good afternoon, how can I help?", taras)
    assert wait_texts(world, bot, client, 3)[2:] == ["Good afternoon, how can I help?"]
    say(world, bot, client, "Is the shop open on Sunday?")
    assert wait_texts(world, bot, candidate, 4)[3:] == ["Marta Client: Is the shop open on Sunday?"]

    say(world, bot, candidate, "/end", taras)
    assert wait_texts(world, bot, client, 4)[3:] == [COMPLETED]
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, client)
        assert dialog.state == "closed"
        assert dialog.operator_id.sender_id.id == sender_id
        assert dialog.operator_id.active_dialog_count == 0
        # the operator's own messages never opened a customer dialog for them
        assert not env["chatbot.dialog"].search([("sender_id", "=", sender_id), ("state", "!=", "closed")])
    assert wait_texts(world, bot, candidate, 5)[4:] == ["The dialog with Marta Client is closed."]


# ------------------------------------------------------------------------------------------------
# 5. A worker killed while routing
# ------------------------------------------------------------------------------------------------


def test_worker_killed_while_routing_greets_and_assigns_once(world):
    """The first message (a document, slow to download) routes the customer; every worker is killed
    mid-way. The update is processed again, once: one assignment, one greeting, one copy in Discuss."""
    fake, server = world.fake, world.server
    bot = operator_bot(
        world, "E2E killed", operators=["Steady Operator"], max_parallel_chats=1, wait_start_message=False
    )
    chat = 72601
    file_id = fake.add_file(bot.token, b"%PDF invoice", file_path="documents/invoice.pdf")
    fake.fail_next("getFile", kind="hang", seconds=8)
    update = fake.make_message_update(
        chat,
        None,
        document={
            "file_id": file_id,
            "file_unique_id": "invoice",
            "file_name": "invoice.pdf",
            "mime_type": "application/pdf",
            "file_size": 12,
        },
    )
    update["update_id"] = next(_update_ids)
    started = len(fake.calls_for("getFile"))
    assert post_json(bot.webhook, update, bot.secret)[0] == 200
    assert wait_for(lambda: len(fake.calls_for("getFile")) > started, timeout=60), "processing started"
    killed = set(server.worker_pids())
    server.kill_workers()
    assert wait_for(lambda: len(set(server.worker_pids()) - killed) >= 3, timeout=30), (
        "the master started new workers (two HTTP, one cron)"
    )
    # the new cron worker sleeps before its first poll unless woken, as the next update would
    wait_nudging(
        world.reg,
        ["chatbot_base.ir_cron_chatbot_inbound_process"],
        lambda: len(texts(world, bot, chat)) >= 2,
        timeout=60,
    )
    got = texts(world, bot, chat)
    assert got == [f"Steady Operator {CONNECTED}", HOW_TO_END]
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        assert len(dialogs_of(env, bot)) == 1
        assert dialog.state == "active"
        assert dialog.operator_id.active_dialog_count == 1
        incoming = dialog.message_ids.filtered(lambda m: m.direction == "in")
        assert len(incoming) == 1
        assert incoming.attachment_ids.raw == b"%PDF invoice"
        posted = env["mail.message"].search(
            [("model", "=", "discuss.channel"), ("res_id", "=", dialog.discuss_channel_id.id)]
        )
        assert len(posted.attachment_ids) == 1, "the document shows once in the conversation"
        assert len(env["discuss.channel"].search([("chatbot_dialog_id", "=", dialog.id)])) == 1
    time.sleep(2)
    assert texts(world, bot, chat) == got, "nothing sent twice"


# ------------------------------------------------------------------------------------------------
# 5. An operators' group in Telegram (seed §1.1: operators who are not Odoo users)
# ------------------------------------------------------------------------------------------------


def group_bot(world, group_chat_id, **chat):
    """A consultation bot whose customers are served by the operators' Telegram group `group_chat_id`."""
    world.fake.add_chat(group_chat_id, type="supergroup", **chat)
    bot = operator_bot(world, "E2E group", wait_start_message=True)
    with odoo_env(world.reg) as env:
        env["chatbot.channel"].browse(bot.channel_id).telegram_group_chat_id = str(group_chat_id)
    return bot


def test_customer_messages_go_to_the_group_and_the_groups_answers_come_back(world):
    group = -1003000000101
    bot = group_bot(world, group, title="Support")
    chat = 72301
    say(world, bot, chat, "Is the blue kettle in stock?", customer(world, chat))
    say(world, bot, chat, "/start")
    assert wait_for(lambda: any("blue kettle" in (t or "") for t in texts(world, bot, group)), timeout=60)
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        assert (dialog.state, dialog.served_by_group, bool(dialog.operator_id)) == ("active", True, False)
    say(world, bot, chat, "The 1.7 litre one")
    assert wait_for(lambda: "The 1.7 litre one" in (texts(world, bot, group)[-1] or ""), timeout=60)
    relayed = world.fake.sent_messages(chat_id=group, token=bot.token)[-1]
    assert relayed["text"] == "Ada Lovelace:\nThe 1.7 litre one", "outside a forum, the customer is named"
    # an operator replies to the relayed message in the group: the customer gets the answer, as the bot
    operator = world.fake_module.default_user(7101, first_name="Olena")
    world.fake.push_update(
        bot.token, world.fake.make_message_update(group, "Yes, 4 left", operator, reply_to_message=relayed)
    )
    assert wait_for(lambda: "Yes, 4 left" in texts(world, bot, chat), timeout=60)
    assert HOW_TO_END in texts(world, bot, chat)
    assert wait_for(lambda: settled(world, bot), timeout=60)
    assert "Yes, 4 left" not in texts(world, bot, group), "the answer is not echoed into the group"


def test_a_forum_group_gets_a_topic_per_dialog_closed_with_it(world):
    forum = -1003000000102
    bot = group_bot(world, forum, title="Support (forum)", is_forum=True)
    chat = 72302
    say(world, bot, chat, "/start", customer(world, chat))
    say(world, bot, chat, "Where is my order?")

    def topic():
        with odoo_env(world.reg) as env:
            return dialog_of(env, bot, chat).telegram_topic_id

    assert wait_for(topic, timeout=60)
    thread = int(topic())
    assert world.fake.topics(forum)[thread]["name"].endswith("· Ada Lovelace")
    assert wait_for(
        lambda: (
            ("Where is my order?", thread)
            in [(m.get("text"), m.get("message_thread_id")) for m in world.fake.sent_messages(chat_id=forum)]
        ),
        timeout=60,
    )
    # an operator writes in the topic: the customer gets it
    operator = world.fake_module.default_user(7102, first_name="Petro")
    world.fake.push_update(
        bot.token,
        world.fake.make_message_update(
            forum, "It ships today", operator, message_thread_id=thread, is_topic_message=True
        ),
    )
    assert wait_for(lambda: "It ships today" in texts(world, bot, chat), timeout=60)

    def topic_says(text):
        world.fake.push_update(
            bot.token,
            world.fake.make_message_update(
                forum, text, operator, message_thread_id=thread, is_topic_message=True
            ),
        )

    # commands typed in the topic act on its dialog and never reach the customer
    topic_says("/transfer")
    assert wait_for(
        lambda: any("Write /transfer and an operator's name" in (t or "") for t in texts(world, bot, forum)),
        timeout=60,
    )
    # the topic's first message carries the dialog's actions
    actions = next(m for m in world.fake.sent_messages(chat_id=forum) if "reply_markup" in m)
    assert actions["message_thread_id"] == thread
    take, _transfer, end = actions["reply_markup"]["inline_keyboard"][0]
    assert (take["text"], _transfer["text"], end["text"]) == ("Take", "Transfer", "End the dialog")
    # Take: Petro is a member of the group, not an approved operator of the bot
    world.fake.push_update(
        bot.token,
        world.fake.make_callback_update(
            forum, take["callback_data"], actions["message_id"], operator, token=bot.token
        ),
    )
    assert wait_for(
        lambda: any(
            "Only the bot's approved operators take dialogs" in (t or "") for t in texts(world, bot, forum)
        ),
        timeout=60,
    )
    # once approved as an operator of the bot (he asked with /operator in his private chat), Take makes the
    # dialog his: it counts in his load
    say(world, bot, 7102, "/operator", operator)
    assert wait_for(
        lambda: "Please wait for approval you as consultant" in texts(world, bot, 7102), timeout=60
    )
    with odoo_env(world.reg) as env:
        sender = env["chatbot.sender"].search(
            [("channel_id", "=", bot.channel_id), ("external_id", "=", "7102")]
        )
        sender.action_chatbot_approve()
    world.fake.push_update(
        bot.token,
        world.fake.make_callback_update(
            forum, take["callback_data"], actions["message_id"], operator, token=bot.token
        ),
    )
    assert wait_for(
        lambda: any("Petro Lovelace takes the dialog" in (t or "") for t in texts(world, bot, forum)),
        timeout=60,
    )
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        assert (dialog.operator_id.sender_id.external_id, dialog.operator_id.active_dialog_count) == (
            "7102",
            1,
        )
    # End closes the dialog
    world.fake.push_update(
        bot.token,
        world.fake.make_callback_update(
            forum, end["callback_data"], actions["message_id"], operator, token=bot.token
        ),
    )
    assert wait_for(lambda: world.fake.topics(forum)[thread]["closed"], timeout=60)
    assert texts(world, bot, chat)[-1] == COMPLETED
    assert dialog_state(world, bot, chat) == "closed"
    with odoo_env(world.reg) as env:
        assert dialog_of(env, bot, chat).close_reason == "operator"
    assert not [t for t in texts(world, bot, chat) if (t or "").startswith("/")]
    assert len(world.fake.calls_for("createForumTopic", chat_id=forum)) == 1


# ------------------------------------------------------------------------------------------------
# 6. Transfer to another department's queue, a silent operator (issue 16)
# ------------------------------------------------------------------------------------------------

TRANSFER_TEXT = "We are passing you to another consultant. Please wait a moment."


def conversation_bodies(world, dialog_code):
    with odoo_env(world.reg) as env:
        dialog = env["chatbot.dialog"].search([("code", "=", dialog_code)])
        return [m.body or "" for m in dialog.discuss_channel_id.message_ids]


def test_an_operator_transfers_a_customer_to_another_departments_queue(world):
    support = operator_bot(world, "E2E support", operators=["Olha Support"])
    sales = operator_bot(world, "E2E sales", operators=["Petro Sales"])
    olha = next(iter(support.users.values()))
    petro = next(iter(sales.users.values()))
    chat = 72601
    say(world, support, chat, "/start", customer(world, chat, "Iryna", "Buyer"))
    wait_texts(world, support, chat, 2)
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, support, chat)
        assert dialog.operator_id.user_id.id == olha.id
        dialog_id = dialog.id

    # Olha, as herself, hands the dialog to the sales department's queue with a note
    wizard = olha.rpc.kw(
        "chatbot.transfer",
        "create",
        {"dialog_id": dialog_id, "target": "queue", "operator_bot_id": sales.bot_id, "note": "Wants 3 sofas"},
    )
    olha.rpc.kw("chatbot.transfer", "action_transfer", [wizard])
    got = wait_texts(world, support, chat, 5)
    assert got[2:5] == [TRANSFER_TEXT, f"Petro Sales {CONNECTED}", HOW_TO_END]
    with odoo_env(world.reg) as env:
        # seed 002: the dialog ends as transferred; its child carries on in the sales department
        dialog = env["chatbot.dialog"].browse(dialog_id)
        assert (dialog.state, dialog.close_reason, dialog.operator_bot_id.id) == (
            "closed",
            "transfer",
            support.bot_id,
        )
        child = dialog.child_ids
        assert (child.operator_bot_id.id, child.operator_id.user_id.id) == (sales.bot_id, petro.id)
        assert (child.transfer_count, child.transfer_note) == (1, "Wants 3 sofas")
        members = child.discuss_channel_id.channel_member_ids.partner_id.user_ids.ids
        assert petro.id in members and olha.id not in members
        assert child.discuss_channel_id == dialog.discuss_channel_id, "the same conversation, whole history"
        child_id, child_code = child.id, child.code
    assert any("Wants 3 sofas" in body for body in conversation_bodies(world, child_code))

    # the customer's next words reach Petro in the child; his answer reaches the customer
    say(world, support, chat, "Three grey ones, please")
    assert wait_for(
        lambda: any("Three grey ones" in b for b in conversation_bodies(world, child_code)), timeout=60
    )
    with odoo_env(world.reg) as env:
        child = env["chatbot.dialog"].browse(child_id)
        assert "Three grey ones, please" in child.message_ids.mapped("body")
        channel_id = child.discuss_channel_id.id
    petro.rpc.kw(
        "discuss.channel",
        "message_post",
        [channel_id],
        body="They are in stock",
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )
    # greeting and how to end (Olha), the transfer text, greeting and how to end (Petro), then his answer
    assert wait_texts(world, support, chat, 6)[5] == "They are in stock"
    assert not [t for t in texts(world, support, chat) if "sofas" in (t or "")], "the note stays inside"


def test_a_silent_operator_loses_the_dialog_to_the_next_one(world):
    bot = operator_bot(
        world, "E2E silent", operators=["Quiet Operator", "Quick Operator"], silent_operator_time=1
    )
    chat = 72602
    say(world, bot, chat, "/start", customer(world, chat, "Oleh", "Waiting"))
    first_greeting = wait_texts(world, bot, chat, 2)[0]
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        first = dialog.operator_id
        first_user, dialog_id = first.user_id.id, dialog.id
    # two minutes pass without an answer (the assignment moved back instead of waiting)
    with odoo_env(world.reg) as env:
        env.cr.execute(
            "UPDATE chatbot_dialog SET assign_date = assign_date - interval '2 minutes' WHERE id = %s",
            [dialog_id],
        )
        env.ref("chatbot_operator.ir_cron_chatbot_operator_queue")._trigger()

    def reassigned():
        with odoo_env(world.reg) as env:
            operator = env["chatbot.dialog"].browse(dialog_id).operator_id
            return operator.user_id.id if operator and operator.user_id.id != first_user else None

    assert wait_nudging(
        world.reg, ["chatbot_operator.ir_cron_chatbot_operator_queue"], reassigned, timeout=90
    )
    second_user = reassigned()
    assert second_user and second_user != first_user
    got = wait_texts(world, bot, chat, 3)
    assert got[2].endswith(CONNECTED) and got[2] != first_greeting, "the next operator greets the customer"
    with odoo_env(world.reg) as env:
        dialog = env["chatbot.dialog"].browse(dialog_id)
        assert dialog.silent_operator_id.user_id.id == first_user
        assert env["chatbot.operator"].search([("user_id", "=", first_user)]).active_dialog_count == 0


def test_an_offer_not_accepted_in_time_goes_to_the_next_operator(world):
    """Accept mode: the first operator lets the offer run out (the queue's timer wakes the cron worker at
    the end of the time to accept), the second accepts in their browser's place (JSON-RPC as themselves)."""
    bot = operator_bot(
        world, "E2E accept", operators=["Slow Operator", "Ready Operator"], accept_mode=True, accept_timeout=2
    )
    chat = 72603
    say(world, bot, chat, "/start", customer(world, chat, "Mykola", "Patient"))

    def offered_to():
        with odoo_env(world.reg) as env:
            dialog = dialog_of(env, bot, chat)
            return dialog.offer_operator_id.user_id.id if dialog else None

    assert wait_for(offered_to, timeout=60)
    first = offered_to()
    with odoo_env(world.reg) as env:
        queued = dialog_of(env, bot, chat).queue_date
    assert texts(world, bot, chat) == [], "nobody connected yet"
    assert wait_for(lambda: offered_to() not in (None, first), timeout=60), "offered to the next one in time"
    second = offered_to()
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        assert (dialog.state, dialog.queue_date, dialog.declined_operator_ids.user_id.id) == (
            "waiting",
            queued,
            first,
        )
        dialog_id = dialog.id
    bot.users[second].rpc.kw("chatbot.dialog", "action_accept", [dialog_id])
    got = wait_texts(world, bot, chat, 2)
    assert got == [f"{bot.users[second].name} {CONNECTED}", HOW_TO_END]
    with odoo_env(world.reg) as env:
        dialog = env["chatbot.dialog"].browse(dialog_id)
        assert (dialog.state, dialog.operator_id.user_id.id) == ("active", second)
        loads = {o.user_id.id: o.active_dialog_count for o in dialog.operator_bot_id.operator_ids}
        assert loads == {first: 0, second: 1}


# ------------------------------------------------------------------------------------------------
# 7. Message via bot: a chat started from a contact (issue 17)
# ------------------------------------------------------------------------------------------------


def test_message_via_bot_from_a_contact_reaches_them_in_telegram(world):
    bot = operator_bot(world, "E2E start chat", operators=["Iryna Sales"])
    iryna = next(iter(bot.users.values()))
    chat = 72801
    say(world, bot, chat, "/start", customer(world, chat, "Marta", "Shevchenko"))
    wait_texts(world, bot, chat, 2)
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        dialog.action_end()
        partner_id = dialog.partner_id.id
        stranger_id = env["res.partner"].create({"name": "Never Wrote"}).id
    before = len(wait_texts(world, bot, chat, 3))

    # as herself, from the contact's action menu: refused for someone who never wrote, with the reason
    with pytest.raises(RpcError, match="Never Wrote never wrote to a bot"):
        iryna.rpc.kw("res.partner", "action_chatbot_message", [stranger_id])
    action = iryna.rpc.kw("res.partner", "action_chatbot_message", [partner_id])
    assert action["tag"] == "mail.action_discuss"
    channel_id = int(action["params"]["active_id"].split("_")[-1])
    iryna.rpc.kw(
        "discuss.channel",
        "message_post",
        [channel_id],
        body="Your sofa is ready for pickup",
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )
    assert wait_for(lambda: "Your sofa is ready for pickup" in texts(world, bot, chat), timeout=60)
    with odoo_env(world.reg) as env:
        dialog = dialog_of(env, bot, chat)
        assert (dialog.state, dialog.operator_id.user_id.id) == ("active", iryna.id)
    assert len(texts(world, bot, chat)) > before


# ------------------------------------------------------------------------------------------------
# 8. A rating given in Telegram (issue 18)
# ------------------------------------------------------------------------------------------------


def test_a_customer_rates_the_consultation_with_telegram_buttons(world):
    bot = operator_bot(world, "E2E rating", operators=["Nadia Support"], rating_enabled=True)
    nadia = next(iter(bot.users.values()))
    chat = 72901
    say(world, bot, chat, "/start", customer(world, chat, "Roman", "Koval"))
    wait_texts(world, bot, chat, 2)
    with odoo_env(world.reg) as env:
        dialog_id = dialog_of(env, bot, chat).id
    nadia.rpc.kw("chatbot.dialog", "action_end", [dialog_id])
    assert wait_for(
        lambda: "How was your consultation? Please rate it." in texts(world, bot, chat), timeout=60
    )
    question = next(m for m in world.fake.sent_messages(chat_id=chat, token=bot.token) if "reply_markup" in m)
    good = question["reply_markup"]["inline_keyboard"][0][0]
    assert good["text"] == "Good"
    rater = customer(world, chat, "Roman", "Koval")
    world.fake.push_update(
        bot.token,
        world.fake.make_callback_update(
            chat, good["callback_data"], question["message_id"], rater, token=bot.token
        ),
    )
    assert wait_for(
        lambda: any("Thank you for your rating" in (t or "") for t in texts(world, bot, chat)), timeout=60
    )
    say(world, bot, chat, "Quick and kind", rater)
    assert wait_for(lambda: "Thank you, we passed your comment on." in texts(world, bot, chat), timeout=60)
    with odoo_env(world.reg) as env:
        dialog = env["chatbot.dialog"].browse(dialog_id)
        assert (dialog.rating, dialog.rating_comment) == ("5", "Quick and kind")
        assert dialog_of(env, bot, chat) == dialog, "the rating and its comment opened no new dialog"
