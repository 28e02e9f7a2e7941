"""Benchmark of the inbound queue drained by the server's cron worker with no HTTP load: a real Odoo
(--workers=2, one cron worker), updates stored straight into the queue, then the time until all are done.

Run with `./bots bench drain` (BENCH_UPDATES, default 6000; BENCH_CHATS, default 50).
"""

import os
import sys
import time

from harness import OdooServer, odoo_env, registry, settings, store_text_updates

UPDATES = int(os.environ.get("BENCH_UPDATES", 6000))
CHATS = int(os.environ.get("BENCH_CHATS", 50))


def main():
    conf = settings()
    reg = registry(conf)
    server = OdooServer(conf, workers=2, log_level=os.environ.get("BENCH_LOG", "warn")).start()
    try:
        with odoo_env(reg) as env:
            bot = env["chatbot.bot"].create({"name": "Drain benchmark", "bot_type": "client"})
            channel = env["chatbot.channel"].create(
                {"name": "Drain benchmark", "bot_id": bot.id, "provider": "telegram"}
            )
            store_text_updates(channel, UPDATES, CHATS, 700_000, 40_000_000)
            channel_id = channel.id
        started = time.perf_counter()
        done = 0
        while done < UPDATES and time.perf_counter() - started < 900:
            time.sleep(0.5)
            with odoo_env(reg) as env:
                env.cr.execute(
                    "SELECT count(*) FROM chatbot_inbound WHERE channel_id = %s AND state != 'pending'",
                    [channel_id],
                )
                done = env.cr.fetchone()[0]
        elapsed = time.perf_counter() - started
        print(
            f"cron worker drain, {UPDATES} text updates from {CHATS} chats, no HTTP load: "
            f"{done / elapsed:.0f} updates/s ({done} in {elapsed:.1f} s); log {server.log}"
        )
        return 0 if done == UPDATES else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
