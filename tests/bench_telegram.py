"""Benchmark of the Telegram intake: a real Odoo (--workers=2, BENCH_CRON_THREADS cron workers, default 2 as
Odoo's max_cron_threads) and the fake Bot API server.

Run with `./bots bench telegram` (it prepares a throwaway database). Prints:
  1. webhook acknowledgement latency of one sender alone (the service time of one update);
  2. the same with 50 concurrent senders, each sending one update a second (50 updates/s offered);
  3. 50 senders offering BENCH_RATE updates per second between them (default 100, the target) for
     BENCH_SECONDS seconds (default 60): whether processing keeps up (processed per second while they send,
     how long the last ones take after they stop, the delay from the webhook to the end of processing),
     updates lost (acknowledged but never processed) and processed twice;
  4. 50 senders sending as fast as they are acknowledged for BENCH_SECONDS seconds: the capacity, updates
     per second stored and processed, lost and processed twice.
Every update's text is unique ("message <update_id>"), so a text stored twice is a duplicate.
"""

import os
import statistics
import sys
import threading
import time

from harness import OdooServer, connect_channel, load_fake_telegram, odoo_env, post_json, registry, settings

SENDERS = 50
ACK_PER_SENDER = int(os.environ.get("BENCH_ACK_PER_SENDER", 20))
SECONDS = int(os.environ.get("BENCH_SECONDS", 60))
CRON_THREADS = int(os.environ.get("BENCH_CRON_THREADS", 2))  # Odoo's default max_cron_threads
RATE = float(os.environ.get("BENCH_RATE", 100))  # offered in the paced run: the target


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def make_update(fake, update_id, chat_id):
    update = fake.make_message_update(chat_id, f"message {update_id}")
    update["update_id"] = update_id
    return update


def post(world, fake, update_id, chat_id):
    try:
        status, seconds = post_json(world["webhook"], make_update(fake, update_id, chat_id), world["secret"])
    except OSError:
        return "timeout", None
    return status, seconds


def ack_latency(world, fake, senders, per_sender, interval=0.0, base=10_000_000):
    """`senders` threads, each posting `per_sender` updates `interval` seconds apart (0: back to back)."""
    latencies, errors, lock = [], [], threading.Lock()

    def sender(index):
        next_at = time.perf_counter() + index * interval / senders
        for n in range(per_sender):
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += interval
            status, seconds = post(world, fake, base + index * 1000 + n, 900_000 + index)
            with lock:
                if status == 200:
                    latencies.append(seconds)
                else:
                    errors.append(status)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
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


def cpu_seconds(server):
    """CPU seconds used so far by: this process (the load generator and the fake Telegram), the Odoo
    server's HTTP workers, its cron workers (niced by Odoo), its master with the workers it reaped,
    PostgreSQL, everything else (the kernel's network work among it), and the time the machine was idle."""
    import psutil

    def seconds(process, reaped=False):
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system + ((times.children_user + times.children_system) if reaped else 0)

    master = psutil.Process(server.process.pid)
    workers = master.children(recursive=True)
    postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]
    machine = psutil.cpu_times()
    result = {
        "load generator": seconds(psutil.Process()),
        "odoo HTTP workers": sum(seconds(p) for p in workers if p.nice() == 0),
        "odoo cron workers": sum(seconds(p) for p in workers if p.nice() != 0),
        "odoo master": seconds(master, reaped=True),
        "postgres": sum(seconds(p) for p in postgres),
    }
    busy = sum(machine) - machine.idle - machine.iowait
    result["other"] = busy - sum(result.values())
    result["idle"] = machine.idle + machine.iowait
    return result


def sample_waits(reg, stop, counts):
    """With BENCH_SAMPLE=1: what the database sessions are doing, every 0.1 s (to find lock waits)."""
    with odoo_env(reg, commit=False) as env:
        while not stop.is_set():
            env.cr.execute(
                """SELECT coalesce(wait_event_type, 'CPU') || ' ' || coalesce(wait_event, '') || ' | '
                          || left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
                     FROM pg_stat_activity
                    WHERE backend_type = 'client backend' AND pid != pg_backend_pid() AND state = 'active'"""
            )
            for (key,) in env.cr.fetchall():
                counts[key] = counts.get(key, 0) + 1
            env.cr.rollback()
            time.sleep(0.1)


def sustained(world, fake, reg, server, first_id, rate=None):
    """SENDERS senders for SECONDS seconds, offering `rate` updates per second between them (None: each
    as fast as it is acknowledged)."""
    counter, lock, stop = [0], threading.Lock(), threading.Event()
    acked, refused = [], []

    def sender(index):
        interval = SENDERS / rate if rate else 0.0
        next_at = time.perf_counter() + index * interval / SENDERS
        while not stop.is_set():
            if interval:
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at = max(next_at + interval, time.perf_counter() - interval)  # late: no burst after
                if stop.is_set():
                    break
            with lock:
                update_id = first_id + counter[0]
                counter[0] += 1
            status, _seconds = post(world, fake, update_id, 950_000 + index)
            with lock:
                (acked if status == 200 else refused).append(update_id)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    cpu_before = cpu_seconds(server)
    waits = {}
    if os.environ.get("BENCH_SAMPLE"):
        threads.append(threading.Thread(target=sample_waits, args=(reg, stop, waits)))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    sent_for = time.perf_counter() - started
    cpu_after = cpu_seconds(server)
    for key, count in sorted(waits.items(), key=lambda item: -item[1])[:25]:
        print(f"{count:6d}  {key}")
    last_id = first_id + counter[0]
    done_while_sending = processed(reg, world["channel_id"], first_id, last_id)[0]
    deadline = time.time() + 900
    done, stored = processed(reg, world["channel_id"], first_id, last_id)
    while done < len(acked) and time.time() < deadline:
        time.sleep(1)
        done, stored = processed(reg, world["channel_id"], first_id, last_id)
    drained = time.perf_counter() - started
    with odoo_env(reg) as env:
        env.cr.execute(
            """SELECT count(*), count(DISTINCT m.body) FROM chatbot_dialog_message m
                 JOIN chatbot_dialog d ON d.id = m.dialog_id
                WHERE d.bot_id = %s AND m.direction = 'in' AND m.body LIKE %s""",
            [world["bot_id"], f"message {str(first_id)[:2]}%"],
        )
        messages, distinct = env.cr.fetchone()
        # from the webhook's commit to the end of the update's processing (write_date of the 'done' row)
        env.cr.execute(
            """SELECT extract(epoch FROM write_date - create_date) FROM chatbot_inbound
                WHERE channel_id = %s AND state = 'done' AND external_id ~ '^[0-9]+$'
                  AND external_id::bigint BETWEEN %s AND %s""",
            [world["channel_id"], first_id, last_id],
        )
        delays = [float(row[0]) for row in env.cr.fetchall()] or [0.0]
        if os.environ.get("BENCH_VERBOSE"):
            # when the slow ones arrived: the updates of each second, their slowest delay
            env.cr.execute(
                """SELECT date_trunc('second', create_date), count(*),
                          max(extract(epoch FROM write_date - create_date))
                     FROM chatbot_inbound
                    WHERE channel_id = %s AND state = 'done' AND external_id ~ '^[0-9]+$'
                      AND external_id::bigint BETWEEN %s AND %s
                    GROUP BY 1 ORDER BY 1""",
                [world["channel_id"], first_id, last_id],
            )
            for second, count, slowest in env.cr.fetchall():
                print(f"  {second:%H:%M:%S}  {count:4d} updates, slowest {float(slowest):.2f} s")
    return {
        "acknowledged": len(acked),
        "refused": len(refused),
        "stored": stored,
        "processed": done,
        "lost": max(len(acked) - done, 0),
        "processed_twice": messages - distinct,
        "stored_per_s": len(acked) / sent_for,
        "processed_per_s_while_sending": done_while_sending / sent_for,
        "processed_per_s_overall": done / drained,
        "drain_seconds": drained - sent_for,
        "cpu_share": {
            # "other" is a difference of counters read at slightly different times: never below 0
            name: max(0.0, (cpu_after[name] - cpu_before[name]) / sent_for / (os.cpu_count() or 1))
            for name in cpu_after
        },
        "processed_per_s_draining": (done - done_while_sending) / max(drained - sent_for, 1e-9),
        "delay_p50": percentile(delays, 50),
        "delay_p95": percentile(delays, 95),
        "delay_max": max(delays),
    }


def main():
    conf = settings()
    reg = registry(conf)
    fake = load_fake_telegram().FakeTelegram()
    fake.start()
    server = OdooServer(
        conf, workers=2, log_level=os.environ.get("BENCH_LOG", "warn"), cron_threads=CRON_THREADS
    ).start()
    try:
        world = connect_channel(reg, fake, server, name="Benchmark Telegram")
        print(f"Odoo --workers=2 --max-cron-threads={CRON_THREADS}, fake Telegram, {os.cpu_count()} cores")
        alone = ack_latency(world, fake, senders=1, per_sender=300, base=9_000_000)
        print(
            f"webhook ack, one sender, {alone['requests']} updates back to back: "
            f"p50 {alone['p50_ms']:.1f} ms, "
            f"p99 {alone['p99_ms']:.1f} ms ({alone['requests_per_s']:.0f} updates/s)"
        )
        ack = ack_latency(world, fake, senders=SENDERS, per_sender=ACK_PER_SENDER, interval=1.0)
        print(
            f"webhook ack, {SENDERS} concurrent senders at 1 update/s each, {ack['requests']} updates: "
            f"p50 {ack['p50_ms']:.1f} ms, p99 {ack['p99_ms']:.1f} ms, {ack['errors']} errors"
        )
        paced = sustained(world, fake, reg, server, first_id=30_000_000, rate=RATE)
        print(
            f"sustained {SECONDS} s, {SENDERS} senders offering {RATE:.0f} updates/s: "
            f"{paced['acknowledged']} acknowledged ({paced['stored_per_s']:.0f}/s), {paced['refused']} "
            f"refused or timed out; processed {paced['processed_per_s_while_sending']:.0f}/s while sending, "
            f"the last {paced['drain_seconds']:.1f} s after sending stopped; from webhook to processed: "
            f"p50 {paced['delay_p50']:.2f} s, p95 {paced['delay_p95']:.2f} s, "
            f"max {paced['delay_max']:.2f} s; "
            f"lost {paced['lost']}, processed twice {paced['processed_twice']}"
        )
        shares = ", ".join(f"{name} {share:.0%}" for name, share in paced["cpu_share"].items())
        print(f"CPU while sending (share of {os.cpu_count()} cores): {shares}")
        if os.environ.get("BENCH_BACK_TO_BACK", "1") == "0":
            return 0 if not (paced["lost"] or paced["processed_twice"]) else 1
        result = sustained(world, fake, reg, server, first_id=20_000_000)
        print(
            f"sustained {SECONDS} s, {SENDERS} senders back to back: {result['acknowledged']} acknowledged "
            f"({result['stored_per_s']:.0f}/s), {result['refused']} refused or timed out; processed "
            f"{result['processed_per_s_while_sending']:.0f}/s while sending, "
            f"{result['processed_per_s_overall']:.0f}/s overall "
            f"(queue drained {result['drain_seconds']:.0f} s after sending stopped, "
            f"{result['processed_per_s_draining']:.0f}/s); lost {result['lost']}, "
            f"processed twice {result['processed_twice']}"
        )
        shares = ", ".join(f"{name} {share:.0%}" for name, share in result["cpu_share"].items())
        print(f"CPU while sending (share of {os.cpu_count()} cores): {shares}")
        faults = result["lost"] + result["processed_twice"] + paced["lost"] + paced["processed_twice"]
        return 0 if not faults else 1
    finally:
        server.stop()
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
