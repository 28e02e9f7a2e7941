"""End-to-end: Telegram's replays racing their originals. Two Odoo servers (two HTTP workers each) on one
database get every update four times at once, two copies each: every copy is answered 200 at once, the
inbound queue holds one row per update and nothing else, and each update is processed once."""

import re
import statistics
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import (
    OdooServer,
    connect_channel,
    load_fake_telegram,
    odoo_env,
    post_json,
    registry,
    settings,
    wait_for,
)

pytestmark = pytest.mark.e2e

TOKEN = "987654322:E2E-replay-token"
UPDATES = 200
COPIES = 4  # of each update, posted at once: two to each server
CHATS = range(63000, 63010)
FIRST_UPDATE_ID = 9_000_000


@pytest.fixture(scope="module")
def replay_world():
    conf = settings()
    reg = registry(conf)
    fake = load_fake_telegram().FakeTelegram(retry_delay=0.1, delivery_timeout=10)
    fake.start()
    # the first server processes the queue; the second only takes webhook calls
    servers = [OdooServer(conf, workers=2, cron_threads=1), OdooServer(conf, workers=2, cron_threads=0)]
    try:
        for server in servers:
            server.start()
        ids = connect_channel(reg, fake, servers[0], name="E2E replays", token=TOKEN)
        path = urllib.parse.urlsplit(ids["webhook"]).path
        yield {
            "reg": reg,
            "fake": fake,
            "servers": servers,
            "webhooks": [s.url + path for s in servers],
            **ids,
        }
    finally:
        for server in servers:
            server.stop()
        fake.stop()


def stored_rows(world):
    with odoo_env(world["reg"]) as env:
        rows = env["chatbot.inbound"].search([("channel_id", "=", world["channel_id"])])
        return [(row.external_id, row.state, row.error) for row in rows]


def test_replays_racing_their_originals_are_stored_once(replay_world):
    world = replay_world
    fake = world["fake"]
    updates = []
    for i in range(UPDATES):
        update = fake.make_message_update(CHATS[i % len(CHATS)], f"replayed {i:03d}")
        update["update_id"] = FIRST_UPDATE_ID + i
        updates.append(update)
    targets = [world["webhooks"][copy % 2] for copy in range(COPIES)]
    answers = []
    with ThreadPoolExecutor(COPIES) as pool:
        for update in updates:
            # the copies of one update at once, on the four HTTP workers of the two servers
            answers += pool.map(lambda url, update=update: post_json(url, update, world["secret"]), targets)
    statuses = [status for status, _seconds in answers]
    seconds = sorted(seconds for _status, seconds in answers)
    p50, p99 = statistics.median(seconds), seconds[int(len(seconds) * 0.99)]
    print(f"{len(answers)} posts: {sorted(set(statuses))}, p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    assert statuses == [200] * (UPDATES * COPIES)

    expected = sorted(str(update["update_id"]) for update in updates)
    rows = stored_rows(world)
    junk = [row for row in rows if row[0] not in expected]
    assert not junk, f"{len(junk)} rows that are no update, e.g. {junk[:3]}"
    assert sorted(external_id for external_id, _state, _error in rows) == expected, "one row per update"

    for server in world["servers"]:
        with open(server.log, encoding="utf-8") as handle:
            log = handle.read()
        # Odoo runs a request again after a serialization failure, first waiting up to 2 s
        retried = re.findall(r"SERIALIZATION_FAILURE, \d+ tries left", log)
        assert not retried, f"{len(retried)} webhook calls run again by Odoo"
        assert "Traceback" not in log

    # processed once each, in order per chat
    assert wait_for(lambda: all(state == "done" for _id, state, _error in stored_rows(world)), timeout=120)
    with odoo_env(world["reg"]) as env:
        for chat in CHATS:
            dialogs = env["chatbot.dialog"].search(
                [("sender_id.external_id", "=", str(chat)), ("bot_id", "=", world["bot_id"])]
            )
            bodies = dialogs.message_ids.filtered(lambda m: m.direction == "in").sorted("id").mapped("body")
            sent = [u["message"]["text"] for u in updates if u["message"]["chat"]["id"] == chat]
            assert bodies == sent, chat
