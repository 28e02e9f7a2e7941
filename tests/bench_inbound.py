"""Benchmark of inbound processing in one worker, without HTTP: how many Telegram text updates per second
the inbound queue turns into dialog messages, and the SQL queries per update.

Run with `./bots bench inbound` (BENCH_UPDATES, default 2000; BENCH_PROFILE=1 prints a cProfile summary,
BENCH_CALLERS=<pattern> the callers of the functions matching it).
"""

import cProfile
import os
import pstats
import sys
import time

from harness import load_fake_telegram, odoo_env, registry, settings, store_text_updates

UPDATES = int(os.environ.get("BENCH_UPDATES", 2000))
CHATS = int(os.environ.get("BENCH_CHATS", 200))


def print_queries_of_one_update(reg, channel_id, fake_module):
    """BENCH_SQL=N: the SQL of N more texts from a known chat, to see what the per-update cost is made of."""
    import logging
    import traceback

    import odoo.sql_db

    with odoo_env(reg) as env:
        channel = env["chatbot.channel"].browse(channel_id)
        for n in range(int(os.environ["BENCH_SQL"])):  # BENCH_SQL=3: the later ones show a warm cache
            update = fake_module.make_message_update(800_000, f"one more {n}")
            update["update_id"] = 39_999_900 + n
            update["message"]["message_id"] = 999_900 + n
            channel._chatbot_store_inbound(update)
    stack_of = os.environ.get("BENCH_SQL_STACK")  # e.g. res_company: where the queries naming it come from
    original_execute = odoo.sql_db.Cursor.execute

    def execute(cursor, query, params=None, log_exceptions=True):
        if stack_of and stack_of in str(query):
            traceback.print_stack(limit=25, file=sys.stdout)
        return original_execute(cursor, query, params, log_exceptions)

    odoo.sql_db.Cursor.execute = execute
    logger = logging.getLogger("odoo.sql_db")
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with odoo_env(reg) as env:
            env["chatbot.inbound"]._cron_process(time_budget=10)
    finally:
        logger.setLevel(logging.WARNING)
        logger.removeHandler(handler)
        odoo.sql_db.Cursor.execute = original_execute


def main():
    conf = settings()
    reg = registry(conf)
    fake_module = load_fake_telegram()
    with odoo_env(reg) as env:
        bot = env["chatbot.bot"].create({"name": "Inbound benchmark", "bot_type": "client"})
        channel = env["chatbot.channel"].create(
            {"name": "Inbound benchmark", "bot_id": bot.id, "provider": "telegram"}
        )
        env.cr.execute(
            "UPDATE ir_cron SET active = false WHERE id = %s",
            [env.ref("chatbot_base.ir_cron_chatbot_inbound_process").id],
        )
        store_text_updates(channel, UPDATES, CHATS, 800_000, 30_000_000)
        channel_id = channel.id
    # first contact of each chat (sender, partner, dialog) is part of the figure, as in real traffic
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    import odoo.sql_db

    queries_before = odoo.sql_db.sql_counter
    started = time.perf_counter()
    with odoo_env(reg) as env:
        if profiler:
            profiler.enable()
        done = env["chatbot.inbound"].with_context(bench=True)._cron_process(time_budget=3600)
        if profiler:
            profiler.disable()
    elapsed = time.perf_counter() - started
    queries = odoo.sql_db.sql_counter - queries_before
    with odoo_env(reg) as env:
        env.cr.execute(
            "SELECT state, count(*) FROM chatbot_inbound WHERE channel_id = %s GROUP BY state", [channel_id]
        )
        states = dict(env.cr.fetchall())
        env.cr.execute(
            "UPDATE ir_cron SET active = true WHERE id = %s",
            [env.ref("chatbot_base.ir_cron_chatbot_inbound_process").id],
        )
    print(
        f"inbound processing, one worker, {UPDATES} text updates from {CHATS} chats: "
        f"{done / elapsed:.0f} updates/s, {queries / max(done, 1):.1f} SQL queries per update, "
        f"states {states}"
    )
    if os.environ.get("BENCH_SQL"):
        print_queries_of_one_update(reg, channel_id, fake_module)
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
        stats.print_stats(os.environ.get("BENCH_FILTER", ""), int(os.environ.get("BENCH_LINES", 45)))
        if os.environ.get("BENCH_CALLERS"):  # e.g. cache.py:99: who calls the functions matching it
            stats.print_callers(os.environ["BENCH_CALLERS"])
    return 0 if states.get("done") == UPDATES else 1


if __name__ == "__main__":
    sys.exit(main())
