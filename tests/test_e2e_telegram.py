"""End-to-end: the fake Telegram calls a real Odoo (two HTTP workers, one cron worker) through the webhook;
Odoo's cron worker processes and answers through the fake Bot API."""

import json
import threading
import time

import pytest
from harness import (
    TOKEN,
    OdooServer,
    connect_channel,
    load_fake_telegram,
    odoo_env,
    post_json,
    registry,
    wait_for,
)
from harness import settings as harness_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world():
    conf = harness_settings()
    reg = registry(conf)
    fake = load_fake_telegram().FakeTelegram(retry_delay=0.1, delivery_timeout=10)
    fake.start()
    server = OdooServer(conf, workers=2).start()
    try:
        ids = connect_channel(reg, fake, server)
        yield {"reg": reg, "fake": fake, "server": server, **ids}
    finally:
        server.stop()
        fake.stop()


def messages_of(world, chat_id):
    with odoo_env(world["reg"]) as env:
        dialogs = env["chatbot.dialog"].search(
            [("sender_id.external_id", "=", str(chat_id)), ("bot_id", "=", world["bot_id"])]
        )
        return [(m.direction, m.body) for m in dialogs.message_ids.sorted("id")]


def test_update_through_the_webhook_becomes_a_dialog_message(world):
    fake, token = world["fake"], TOKEN
    fake.push_update(token, fake.make_message_update(61001, "Hello from Telegram"))
    got = wait_for(lambda: messages_of(world, 61001), timeout=60)
    assert got == [("in", "Hello from Telegram")]
    deliveries = [d for d in fake.deliveries if d.chat_id == 61001]
    assert [d.status for d in deliveries] == [200], "acknowledged at the first delivery"


def test_reply_is_sent_by_the_cron_worker(world):
    fake = world["fake"]
    fake.push_update(TOKEN, fake.make_message_update(61002, "hi"))
    assert wait_for(lambda: messages_of(world, 61002), timeout=60)
    with odoo_env(world["reg"]) as env:
        dialog = env["chatbot.dialog"].search([("sender_id.external_id", "=", "61002")])
        dialog._chatbot_send("Hello, how can we help?")
    sent = wait_for(lambda: fake.sent_messages(chat_id=61002), timeout=60)
    assert [m["text"] for m in sent] == ["Hello, how can we help?"]


def test_every_update_delivered_three_times_is_processed_once(world):
    fake = world["fake"]
    update = fake.make_message_update(61003, "only once")
    update["update_id"] = 7_000_003
    for _delivery in range(3):
        status, _seconds = post_json(world["webhook"], update, world["secret"])
        assert status == 200
    assert wait_for(lambda: messages_of(world, 61003), timeout=60) == [("in", "only once")]
    time.sleep(2)
    assert messages_of(world, 61003) == [("in", "only once")]


def test_twenty_first_messages_at_once_make_one_sender_partner_and_dialog(world):
    fake = world["fake"]
    updates = []
    for i in range(20):
        update = fake.make_message_update(61004, f"m{i:02d}")
        update["update_id"] = 7_100_000 + i
        updates.append(update)
    statuses = []
    threads = [
        threading.Thread(
            target=lambda u=u: statuses.append(post_json(world["webhook"], u, world["secret"])[0])
        )
        for u in updates
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 20
    assert wait_for(lambda: len(messages_of(world, 61004)) == 20, timeout=90)
    with odoo_env(world["reg"]) as env:
        senders = env["chatbot.sender"].search([("external_id", "=", "61004")])
        assert len(senders) == 1
        assert len(senders.partner_id) == 1
        assert len(senders.dialog_ids) == 1
        assert sorted(m.body for m in senders.dialog_ids.message_ids) == [f"m{i:02d}" for i in range(20)]


def test_429_and_5xx_lose_nothing_and_keep_the_order(world):
    fake = world["fake"]
    fake.push_update(TOKEN, fake.make_message_update(61005, "hi"))
    assert wait_for(lambda: messages_of(world, 61005), timeout=60)
    fake.fail_next("sendMessage", chat_id=61005, kind="retry_after", retry_after=2)
    fake.fail_next("sendMessage", chat_id=61005, kind="server_error", status=502, times=2)
    with odoo_env(world["reg"]) as env:
        dialog = env["chatbot.dialog"].search([("sender_id.external_id", "=", "61005")])
        for i in range(5):
            dialog._chatbot_send(f"part {i}")
    sent = wait_for(
        lambda: len(fake.sent_messages(chat_id=61005)) >= 5 and fake.sent_messages(chat_id=61005), timeout=120
    )
    assert [m["text"] for m in sent] == [f"part {i}" for i in range(5)]


def test_worker_killed_while_processing_leaves_the_update_to_be_processed_once(world):
    fake, server = world["fake"], world["server"]
    token = TOKEN
    file_id = fake.add_file(token, b"%PDF slow file", file_path="documents/slow.pdf")
    fake.fail_next("getFile", kind="hang", seconds=8)
    update = fake.make_message_update(
        61006,
        None,
        document={
            "file_id": file_id,
            "file_unique_id": "slow",
            "file_name": "slow.pdf",
            "mime_type": "application/pdf",
            "file_size": 14,
        },
    )
    update["update_id"] = 7_200_000
    status, _seconds = post_json(world["webhook"], update, world["secret"])
    assert status == 200
    assert wait_for(lambda: fake.calls_for("getFile"), timeout=60), "the cron worker started processing"
    server.kill_workers()
    assert wait_for(lambda: len(server.worker_pids()) >= 2, timeout=30), "the master started new workers"
    got = wait_for(lambda: messages_of(world, 61006), timeout=120)
    assert [direction for direction, _body in got] == ["in"]
    with odoo_env(world["reg"]) as env:
        row = env["chatbot.inbound"].search([("external_id", "=", "7200000")])
        assert row.state == "done"
        message = env["chatbot.dialog.message"].search([("dialog_id.sender_id.external_id", "=", "61006")])
        assert len(message) == 1
        assert message.attachment_ids.raw == b"%PDF slow file"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "update_id",
                            "message",
                            "chat",
                            "id",
                            "text",
                            "from",
                            "callback_query",
                            "data",
                            "edited_message",
                            "my_chat_member",
                            "photo",
                            "document",
                            "x",
                        ]
                    ),
                    children,
                    max_size=5,
                )
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_fuzzed_bodies_never_get_a_server_error(world, body):
    status, _seconds = post_json(world["webhook"], body, world["secret"])
    assert status == 200


def test_fuzzed_updates_leave_no_traceback_in_processing(world):
    """After the fuzzing, every stored row ended done, ignored or failed with a stated reason; none is
    stuck retrying because of a crash in parsing."""
    time.sleep(3)
    with odoo_env(world["reg"]) as env:
        rows = env["chatbot.inbound"].search([("channel_id", "=", world["channel_id"])])
        crashed = rows.filtered(lambda r: r.state == "pending" and r.attempts > 0)
        assert not crashed, [(r.external_id, r.error) for r in crashed[:5]]
        assert all(r.error for r in rows.filtered(lambda r: r.state == "failed"))
    with open(world["server"].log, encoding="utf-8") as handle:
        assert "Traceback" not in handle.read()
