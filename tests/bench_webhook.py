"""Benchmark of one webhook call's cost inside Odoo, without the network or other processes: Odoo's WSGI
application called in this process for BENCH_CALLS Telegram updates (default 500), one after the other.
Prints the calls per second and the SQL queries per call; BENCH_PROFILE=1 adds a cProfile summary
(BENCH_SORT, BENCH_FILTER, BENCH_LINES), BENCH_SQL=1 the SQL of one call.

Run with `./bots bench webhook`."""

import cProfile
import json
import logging
import os
import pstats
import sys
import time

from harness import load_fake_telegram, odoo_env, registry, settings

CALLS = int(os.environ.get("BENCH_CALLS", 500))


def main():
    conf = settings()
    reg = registry(conf)
    from werkzeug.test import Client

    import odoo
    import odoo.sql_db

    odoo.tools.config["db_name"] = conf["db"]
    odoo.tools.config["dbfilter"] = ""
    fake = load_fake_telegram()
    with odoo_env(reg) as env:
        bot = env["chatbot.bot"].create({"name": "Webhook benchmark", "bot_type": "client"})
        channel = env["chatbot.channel"].create(
            {"name": "Webhook benchmark", "bot_id": bot.id, "provider": "telegram"}
        )
        channel.sudo().telegram_webhook_secret = "bench-secret"  # as Connect would set it
        path = f"/chatbot/telegram/{channel.webhook_key}"
        secret = channel.telegram_webhook_secret
    client = Client(odoo.http.root)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}

    def call(number):
        update = fake.make_message_update(700_000 + number % 50, f"webhook {number}")
        update["update_id"] = 50_000_000 + number
        response = client.post(
            path, data=json.dumps(update), headers=headers, content_type="application/json"
        )
        assert response.status_code == 200, response.status_code

    for number in range(20):  # warm-up: routing map, caches
        call(number)
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    queries_before = odoo.sql_db.sql_counter
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for number in range(20, 20 + CALLS):
        call(number)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    queries = odoo.sql_db.sql_counter - queries_before
    print(
        f"webhook in-process, {CALLS} calls: {elapsed / CALLS * 1000:.2f} ms per call, "
        f"{queries / CALLS:.1f} SQL queries per call"
    )
    if os.environ.get("BENCH_SQL"):
        logger = logging.getLogger("odoo.sql_db")
        handler = logging.StreamHandler(sys.stdout)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        call(CALLS + 100)
        logger.setLevel(logging.WARNING)
        logger.removeHandler(handler)
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            os.environ.get("BENCH_FILTER", ""), int(os.environ.get("BENCH_LINES", 45))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
