"""End-to-end: long polling (no public HTTPS: a laptop, a test machine) through a real Odoo with two HTTP
workers, against a fake Bot API that holds getUpdates as Telegram does (up to `timeout` seconds, answered as
soon as an update arrives). It must feel like a webhook: an update is processed within about a second, with
Odoo's default two cron workers and with one, while another job keeps writing the channel's row."""

import re
import statistics
import threading
import time

import pytest
from harness import OdooServer, connect_channel, load_fake_telegram, odoo_env, registry, wait_for
from harness import settings as harness_settings

pytestmark = pytest.mark.e2e

CUSTOMERS = (64001, 64002, 64003)
PER_CUSTOMER = 10


def keep_writing_the_channel(reg, channel_id, stop):
    """Another job writing the channel's row every 0.2 s, as the outbound queue's pacing does."""
    while not stop.is_set():
        with odoo_env(reg) as env:
            env.cr.execute(
                "UPDATE chatbot_channel SET outbound_recent_sends = %s, write_date = now() WHERE id = %s",
                ["[" + str(time.time()) + "]", channel_id],
            )
        stop.wait(0.2)


def processed_ids(reg, channel_id):
    with odoo_env(reg, commit=False) as env:
        env.cr.execute(
            "SELECT external_id, state FROM chatbot_inbound WHERE channel_id = %s AND state != 'pending'",
            [channel_id],
        )
        return dict(env.cr.fetchall())


@pytest.mark.parametrize("cron_threads", [2, 1])
def test_long_polling_feels_like_a_webhook(cron_threads):
    conf = harness_settings()
    reg = registry(conf)
    fake = load_fake_telegram().FakeTelegram(retry_delay=0.1)
    fake.start()
    server = OdooServer(conf, workers=2, cron_threads=cron_threads).start()
    token = f"98765{cron_threads:04d}:E2E-polling-{cron_threads}"
    stop = threading.Event()
    channel_id = None
    try:
        name = f"E2E polling {cron_threads}"
        channel_id = connect_channel(reg, fake, server, name=name, token=token, intake="polling")[
            "channel_id"
        ]
        assert wait_for(lambda: fake.calls_for("getUpdates"), timeout=30), (
            "the first long poll starts at once"
        )
        writer = threading.Thread(target=keep_writing_the_channel, args=(reg, channel_id, stop), daemon=True)
        writer.start()
        pushed = {}  # update id: when Telegram had it
        seen = {}  # update id: when Odoo had processed it

        def watch():
            while not stop.is_set():
                now = time.monotonic()
                for update_id in processed_ids(reg, channel_id):
                    seen.setdefault(update_id, now)
                stop.wait(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # 30 messages of 3 customers over about 15 s: longer than one run of the polling job
        for n in range(PER_CUSTOMER):
            for chat_id in CUSTOMERS:
                update = fake.push_update(
                    token, fake.make_message_update(chat_id, f"message {n} of {chat_id}")
                )
                pushed[str(update["update_id"])] = time.monotonic()
                time.sleep(0.5)
        assert wait_for(lambda: len(seen) >= len(pushed), timeout=120), (
            f"processed {len(seen)} of {len(pushed)}"
        )
        stop.set()
        delays = sorted(seen[update_id] - pushed[update_id] for update_id in pushed)
        p50, worst = statistics.median(delays), delays[-1]
        print(f"long polling, {cron_threads} cron worker(s): p50 {p50:.2f} s, max {worst:.2f} s")
        assert p50 <= 2.0, f"delivery to processed p50 {p50:.2f} s (max {worst:.2f} s)"
        assert set(processed_ids(reg, channel_id).values()) == {"done"}
        with odoo_env(reg, commit=False) as env:
            dialogs = env["chatbot.dialog"].search([("channel_id", "=", channel_id)])
            for chat_id in CUSTOMERS:
                bodies = (
                    dialogs.filtered(lambda d, c=chat_id: d.sender_id.external_id == str(c))
                    .message_ids.filtered(lambda m: m.direction == "in")
                    .sorted("id")
                    .mapped("body")
                )
                assert bodies == [f"message {n} of {chat_id}" for n in range(PER_CUSTOMER)], "once, in order"
        with open(server.log, encoding="utf-8") as log:
            text = log.read()
        assert not re.search(r"Job 'Bots: Telegram long polling' \(\d+\) server action #\d+ failed", text), (
            "no polling run lost to a concurrent write"
        )
        # the inbound job on the other cron worker claims rows the poll's run processes meanwhile: it claims
        # again with a new snapshot, never fails
        assert not re.search(r"Job '[^']*' \(\d+\) server action #\d+ failed", text), "no queue run lost"
    finally:
        stop.set()
        if channel_id:
            with odoo_env(reg) as env:  # later tests' servers must not poll a fake that is gone
                env["chatbot.channel"].browse(channel_id).write({"state": "draft"})
        server.stop()
        fake.stop()
