"""Benchmark of the Telegram intake: a real Odoo (--workers=2, one cron worker) and the fake Bot API server.

Run with `./bots bench telegram` (it prepares a throwaway database). Prints:
  1. webhook acknowledgement latency (p50, p99) with 50 concurrent senders;
  2. updates per second stored and processed while sending for SECONDS seconds, with the number of updates
     lost (acknowledged but never processed) and processed twice.
"""

import os
import statistics
import sys
import threading
import time

from harness import OdooServer, connect_channel, load_fake_telegram, odoo_env, post_json, registry, settings

SENDERS = 50
ACK_PER_SENDER = int(os.environ.get("BENCH_ACK_PER_SENDER", 40))
SECONDS = int(os.environ.get("BENCH_SECONDS", 60))


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def make_update(fake, update_id, chat_id):
    update = fake.make_message_update(chat_id, f"message {update_id}")
    update["update_id"] = update_id
    return update


def ack_latency(world, fake):
    latencies, errors, lock = [], [], threading.Lock()

    def sender(index):
        for n in range(ACK_PER_SENDER):
            update_id = 10_000_000 + index * 1000 + n
            status, seconds = post_json(
                world["webhook"], make_update(fake, update_id, 900_000 + index), world["secret"]
            )
            with lock:
                (latencies if status == 200 else errors).append(seconds if status == 200 else status)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "mean_ms": statistics.mean(latencies) * 1000,
        "requests_per_s": len(latencies) / elapsed,
    }


def processed(reg, channel_id, first_id, last_id):
    with odoo_env(reg) as env:
        env.cr.execute(
            """SELECT count(*) FILTER (WHERE state = 'done'), count(*) FROM chatbot_inbound
                WHERE channel_id = %s AND external_id ~ '^[0-9]+$'
                  AND external_id::bigint BETWEEN %s AND %s""",
            [channel_id, first_id, last_id],
        )
        return env.cr.fetchone()


def sustained(world, fake, reg):
    first_id, counter, lock, stop = 20_000_000, [0], threading.Lock(), threading.Event()
    acked = []

    def sender(index):
        while not stop.is_set():
            with lock:
                update_id = first_id + counter[0]
                counter[0] += 1
            status, _seconds = post_json(
                world["webhook"], make_update(fake, update_id, 950_000 + index), world["secret"]
            )
            if status == 200:
                with lock:
                    acked.append(update_id)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    sent_for = time.perf_counter() - started
    done_at_end_of_sending = processed(reg, world["channel_id"], first_id, first_id + counter[0])[0]
    last_id = first_id + counter[0]
    deadline = time.time() + 600
    while time.time() < deadline:
        done, stored = processed(reg, world["channel_id"], first_id, last_id)
        if done >= len(acked):
            break
        time.sleep(1)
    drained = time.perf_counter() - started
    with odoo_env(reg) as env:
        env.cr.execute(
            """SELECT count(*), count(DISTINCT m.external_id) FROM chatbot_dialog_message m
                 JOIN chatbot_dialog d ON d.id = m.dialog_id WHERE d.bot_id = %s AND m.direction = 'in'
                  AND m.body LIKE 'message 2%%'""",
            [world["bot_id"]],
        )
        messages, distinct = env.cr.fetchone()
    return {
        "acknowledged": len(acked),
        "stored": stored,
        "processed": done,
        "lost": len(acked) - done,
        "processed_twice": messages - distinct,
        "stored_per_s": len(acked) / sent_for,
        "processed_per_s_while_sending": done_at_end_of_sending / sent_for,
        "processed_per_s_overall": done / drained,
        "drain_seconds": drained - sent_for,
    }


def main():
    conf = settings()
    reg = registry(conf)
    fake = load_fake_telegram().FakeTelegram()
    fake.start()
    server = OdooServer(conf, workers=2, log_level="warn").start()
    try:
        world = connect_channel(reg, fake, server, name="Benchmark Telegram")
        print(f"Odoo {server.url} --workers=2 --max-cron-threads=1; fake Telegram; {os.cpu_count()} cores")
        ack = ack_latency(world, fake)
        print(
            f"webhook ack, {SENDERS} concurrent senders, {ack['requests']} updates: "
            f"p50 {ack['p50_ms']:.1f} ms, p99 {ack['p99_ms']:.1f} ms, mean {ack['mean_ms']:.1f} ms, "
            f"{ack['requests_per_s']:.0f} req/s, {ack['errors']} errors"
        )
        result = sustained(world, fake, reg)
        print(
            f"sustained {SECONDS} s, {SENDERS} senders: {result['acknowledged']} acknowledged "
            f"({result['stored_per_s']:.0f}/s stored), "
            f"processed {result['processed_per_s_while_sending']:.0f}/s "
            f"while sending, {result['processed_per_s_overall']:.0f}/s overall (drained "
            f"{result['drain_seconds']:.0f} s after), lost {result['lost']}, processed twice "
            f"{result['processed_twice']}"
        )
        return 0 if not (result["lost"] or result["processed_twice"] or ack["errors"]) else 1
    finally:
        server.stop()
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
