"""End-to-end (issue 14): a real Odoo (two HTTP workers, one cron worker) next to the fake Telegram. An update
that cannot be read fails at once and its chat goes on; an update whose file download fails with a 5xx is
retried, holds its chat's later updates only for `chatbot_base.inbound_hold_seconds`, then is processed
late, at its retry, after them."""

import time

import pytest
from harness import OdooServer, connect_channel, load_fake_telegram, odoo_env, registry, wait_for
from harness import settings as harness_settings

pytestmark = pytest.mark.e2e

TOKEN = "555666777:E2E-hold-token"
HOLD = 3  # seconds: short, for the test; the retry comes 10 s after the first failure


@pytest.fixture(scope="module")
def world():
    conf = harness_settings()
    reg = registry(conf)
    with odoo_env(reg) as env:
        params = env["ir.config_parameter"]
        previous = params.get_param("chatbot_base.inbound_hold_seconds")
        params.set_param("chatbot_base.inbound_hold_seconds", str(HOLD))
    fake = load_fake_telegram().FakeTelegram(retry_delay=0.1, delivery_timeout=10)
    fake.start()
    server = OdooServer(conf, workers=2).start()
    try:
        ids = connect_channel(reg, fake, server, name="E2E hold", token=TOKEN)
        yield {"reg": reg, "fake": fake, "server": server, **ids}
    finally:
        server.stop()
        fake.stop()
        with odoo_env(reg) as env:
            env["ir.config_parameter"].set_param("chatbot_base.inbound_hold_seconds", previous)


def messages_of(world, chat_id):
    with odoo_env(world["reg"]) as env:
        dialogs = env["chatbot.dialog"].search(
            [("sender_id.external_id", "=", str(chat_id)), ("bot_id", "=", world["bot_id"])]
        )
        return [(m.direction, m.body) for m in dialogs.message_ids.sorted("id")]


def row_of(world, update):
    with odoo_env(world["reg"]) as env:
        row = env["chatbot.inbound"].search(
            [("channel_id", "=", world["channel_id"]), ("external_id", "=", str(update["update_id"]))]
        )
        fields = ["state", "attempts", "error", "hold_until", "next_try", "processed_date"]
        return row.read(fields)[0] if row else {}  # {} until the fake has delivered it


def test_poison_update_fails_at_once_and_its_chat_goes_on(world):
    fake = world["fake"]
    poison = fake.push_update(TOKEN, fake.make_message_update(63001, "poison", date=2**63))
    started = time.monotonic()
    fake.push_update(TOKEN, fake.make_message_update(63001, "after the poison"))
    assert wait_for(lambda: messages_of(world, 63001), timeout=60) == [("in", "after the poison")]
    assert time.monotonic() - started < 30, "not held behind the poison's retries"
    row = row_of(world, poison)
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert row["error"] == "malformed Telegram message update (OverflowError)"


def test_download_error_holds_the_chat_for_the_hold_then_it_goes_on(world):
    fake = world["fake"]
    file_id = fake.add_file(TOKEN, b"\x89PNG kettle", file_path="photos/kettle.jpg")
    fake.fail_next("getFile", kind="server_error", status=502, times=None)
    sizes = [{"file_id": file_id, "file_unique_id": "kettle", "width": 90, "height": 90, "file_size": 11}]
    photo = fake.push_update(TOKEN, fake.make_message_update(63002, None, photo=sizes, caption="My kettle"))
    assert wait_for(lambda: row_of(world, photo).get("attempts", 0) >= 1, timeout=60)
    text = fake.push_update(TOKEN, fake.make_message_update(63002, "meanwhile"))
    assert wait_for(lambda: messages_of(world, 63002), timeout=60) == [("in", "meanwhile")]
    held, went_on = row_of(world, photo), row_of(world, text)
    assert held["state"] == "pending" and held["error"].startswith("TransientError: ")
    assert went_on["processed_date"] >= held["hold_until"], "it waited for the hold"
    assert went_on["processed_date"] < held["next_try"], "and not for the failed update's retry"
    fake.clear_failures()
    got = wait_for(lambda: len(messages_of(world, 63002)) == 2 and messages_of(world, 63002), timeout=90)
    assert got == [("in", "meanwhile"), ("in", "My kettle")], "processed late, at its retry, after the text"
    assert row_of(world, photo)["state"] == "done"
