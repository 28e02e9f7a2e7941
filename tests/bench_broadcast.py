"""Benchmark of broadcasts: a real Odoo (--workers=2, BENCH_CRON_THREADS cron workers, default 2 as Odoo's
max_cron_threads) sending a broadcast through the fake Telegram, whose global limit is set to BENCH_RATE
messages a second (default 300), as is the channel's "Messages per second".

Run with `./bots bench broadcast` (it prepares a throwaway database). For each size in BENCH_SIZES (default
"1000,10000"), on a freshly started server: the rate achieved (first to last message Telegram accepted),
the most messages Telegram got in any one second, 429 answers, duplicates (a chat that got the broadcast
twice), lost (a recipient that never got it), and the cron workers' peak memory (VmHWM, the largest of
them, read at the end of the broadcast from /proc).
"""

import collections
import itertools
import os
import sys
import threading
import time

from harness import OdooServer, load_fake_telegram, odoo_env, registry, settings

RATE = float(os.environ.get("BENCH_RATE", 300))
SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "1000,10000").split(",")]
CRON_THREADS = int(os.environ.get("BENCH_CRON_THREADS", 2))
TOKEN = "5550001:bench-broadcast"


def proc_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cron_worker_pids(reg, server):
    """The server's cron workers: the workers with a connection to the `postgres` database, where they
    LISTEN for cron triggers (Odoo names every connection odoo-<pid>)."""
    workers = set(server.worker_pids())
    with odoo_env(reg, commit=False) as env:
        env.cr.execute("SELECT application_name FROM pg_stat_activity WHERE datname = 'postgres'")
        names = [row[0] or "" for row in env.cr.fetchall()]
    pids = {int(name[5:]) for name in names if name.startswith("odoo-") and name[5:].isdigit()}
    return sorted(pids & workers)


class MemorySampler(threading.Thread):
    """The largest resident size of the cron workers, sampled twice a second."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak_rss = 0
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.wait(0.5):
            for pid in self.pids:
                self.peak_rss = max(self.peak_rss, proc_kib(pid, "VmRSS"))


def prepare(reg, fake, server, size, base_chat):
    """A consultation bot with a connected Telegram channel at RATE/s and `size` senders (inserted with SQL:
    the benchmark measures the broadcast, not 10,000 first messages)."""
    with odoo_env(reg) as env:
        bot = env["chatbot.bot"].create({"name": f"Broadcast benchmark {size}", "bot_type": "operator"})
        channel = env["chatbot.channel"].create(
            {
                "name": f"Broadcast benchmark {size}",
                "bot_id": bot.id,
                "provider": "telegram",
                "telegram_token": TOKEN,
                "telegram_api_url": fake.base_url,
                "telegram_public_url": server.url,
                "telegram_rate_limit": RATE,
            }
        )
        channel.action_telegram_connect()
        env.cr.execute(
            """
            INSERT INTO chatbot_sender (name, channel_id, bot_id, company_id, external_id, chat_id,
                                        is_blocked, create_uid, write_uid, create_date, write_date)
            SELECT 'Customer ' || g, %(channel)s, %(bot)s, %(company)s, (%(base)s + g)::text,
                   (%(base)s + g)::text, false, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM generate_series(1, %(size)s) g
            """,
            {
                "channel": channel.id,
                "bot": bot.id,
                "company": bot.company_id.id,
                "base": base_chat,
                "size": size,
            },
        )
        return bot.id


def run_size(conf, reg, fake, size, base_chat):
    server = OdooServer(
        conf, workers=2, cron_threads=CRON_THREADS, log_level=os.environ.get("BENCH_LOG", "warn")
    ).start()
    try:
        bot_id = prepare(reg, fake, server, size, base_chat)
        time.sleep(2)  # the cron workers settle (their first run after start)
        pids = cron_worker_pids(reg, server)
        sampler = MemorySampler(pids)
        sampler.start()
        fake.reset()
        with odoo_env(reg) as env:
            broadcast = env["chatbot.broadcast"].create(
                {"name": "Benchmark", "bot_id": bot_id, "body": "Spring sale: -20 % on everything!"}
            )
            broadcast.action_send()
            broadcast_id = broadcast.id
        started = time.perf_counter()
        deadline = started + size / RATE * 3 + 120
        state = "sending"
        while time.perf_counter() < deadline:
            time.sleep(1)
            with odoo_env(reg, commit=False) as env:
                state = env["chatbot.broadcast"].browse(broadcast_id).state
            if state != "sending":
                break
        elapsed = time.perf_counter() - started
        peak_hwm = max((proc_kib(pid, "VmHWM") for pid in pids), default=0)
        sampler.stop_event.set()
        sampler.join()
        with odoo_env(reg, commit=False) as env:
            env.cr.execute(
                """SELECT state, count(*) FROM chatbot_broadcast_recipient
                    WHERE broadcast_id = %s GROUP BY state""",
                [broadcast_id],
            )
            states = dict(env.cr.fetchall())
        calls = fake.calls_for("sendMessage", token=TOKEN)
        accepted = sorted((c for c in calls if c.status == 200), key=lambda c: c.time)
        too_many = sum(1 for c in calls if c.status == 429)
        per_chat = collections.Counter(str(c.params.get("chat_id")) for c in accepted)
        duplicates = sum(count - 1 for count in per_chat.values() if count > 1)
        lost = size - len(per_chat)
        span = accepted[-1].time - accepted[0].time if len(accepted) > 1 else 0
        rate = (len(accepted) - 1) / span if span else 0
        times = [c.time for c in accepted]
        busiest, left = 0, 0
        for right, moment in enumerate(times):
            while moment - times[left] >= 1.0:
                left += 1
            busiest = max(busiest, right - left + 1)
        # pauses in the sending: gaps between accepted messages over 50 ms (where the time goes)
        gaps = [(later - earlier, earlier - times[0]) for earlier, later in itertools.pairwise(times)]
        stalls = sorted((gap for gap in gaps if gap[0] > 0.05), reverse=True)
        return {
            "size": size,
            "stalled": sum(gap for gap, _at in stalls),
            "stalls": len(stalls),
            "longest": stalls[:3],
            "state": state,
            "elapsed": elapsed,
            "rate": rate,
            "busiest": busiest,
            "too_many": too_many,
            "duplicates": duplicates,
            "lost": lost,
            "states": states,
            "hwm_mib": peak_hwm / 1024,
            "rss_mib": sampler.peak_rss / 1024,
            "workers": len(pids),
            "log": server.log,
        }
    finally:
        server.stop()


def main():
    conf = settings()
    reg = registry(conf)
    fake = load_fake_telegram().FakeTelegram(global_rate=RATE, retry_delay=0.1).start()
    fake.add_bot(TOKEN, username="bench_broadcast_bot", first_name="Broadcast benchmark")
    results = []
    try:
        for index, size in enumerate(SIZES):
            result = run_size(conf, reg, fake, size, 30_000_000 + index * 1_000_000)
            results.append(result)
            print(
                f"{result['size']:>6} recipients: {result['rate']:.1f} msg/s "
                f"({100 * result['rate'] / RATE:.1f} % of {RATE:.0f}/s), busiest second {result['busiest']}, "
                f"429s {result['too_many']}, "
                f"pauses over 50 ms {result['stalls']} ({result['stalled']:.1f} s, longest "
                + ", ".join(f"{gap:.2f} s at {at:.1f} s" for gap, at in result["longest"])
                + f"), duplicates {result['duplicates']}, lost {result['lost']}, "
                f"broadcast {result['state']} after {result['elapsed']:.1f} s, "
                f"recipients {result['states']}; "
                f"cron workers ({result['workers']}): peak {result['hwm_mib']:.0f} MiB (VmHWM), "
                f"{result['rss_mib']:.0f} MiB sampled RSS; log {result['log']}",
                flush=True,
            )
    finally:
        fake.stop()
    ok = all(
        r["state"] == "done" and not r["duplicates"] and not r["lost"] and r["rate"] >= 0.95 * RATE
        for r in results
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
