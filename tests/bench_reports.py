"""Benchmark of the reports (issue 18): the pivot and graph of Bots > Reporting over many dialogs.

Run with `./bots bench reports`. Inserts BENCH_DIALOGS closed dialogs (default 100,000) by plain SQL, spread
over a year, 20 operators of two consultation bots, three chats and their figures (waiting, first reply and
handling times, messages, transfers, late first replies), then times, as a Bots manager through the ORM's
`read_group` (what the web client's pivot and graph call), each view a user opens:
  1. the Dialogs analysis graph: dialogs per day;
  2. the Operators pivot: per operator and state, the count and the average first reply, handling time and
     messages;
  3. the pivot by month and bot with every average measure;
  4. by weekday and by hour of the day;
  5. the share of late first replies per operator bot.
Each is run BENCH_RUNS times (default 5); the median is printed in milliseconds. The target: under 1,000 ms
each at 100,000 dialogs. Exit code 1 when one is over.
"""

import os
import statistics
import sys
import time

from harness import odoo_env, registry, settings

DIALOGS = int(os.environ.get("BENCH_DIALOGS", 100_000))
RUNS = int(os.environ.get("BENCH_RUNS", 5))
TARGET_MS = 1000


def main():
    conf = settings()
    reg = registry(conf)
    with odoo_env(reg) as env:
        env.cr.execute("DROP INDEX IF EXISTS chatbot_dialog_open_unique")
        bots = env["chatbot.bot"].create(
            [{"name": f"Reports benchmark {n}", "bot_type": "operator"} for n in (1, 2)]
        )
        channels = env["chatbot.channel"].create(
            [{"name": f"Chat {n}", "bot_id": bots[n % 2].id, "provider": "telegram"} for n in range(3)]
        )
        users = env["res.users"].create(
            [
                {
                    "name": f"Operator {i}",
                    "login": f"bench_report_op_{i}",
                    "groups_id": [(4, env.ref("chatbot_base.chatbot_base_group_user").id)],
                }
                for i in range(20)
            ]
        )
        operators = env["chatbot.operator"].create(
            [{"bot_id": bots[i % 2].id, "user_id": u.id} for i, u in enumerate(users)]
        )
        senders = env["chatbot.sender"].create(
            [
                {"name": f"Customer {i}", "channel_id": channels[i % 3].id, "external_id": str(700_000 + i)}
                for i in range(3000)
            ]
        )
        manager = env["res.users"].create(
            {
                "name": "Reports manager",
                "login": "bench_report_manager",
                "groups_id": [(4, env.ref("chatbot_base.chatbot_base_group_manager").id)],
            }
        )
        env.flush_all()
        started = time.perf_counter()
        env.cr.execute(
            """
            INSERT INTO chatbot_dialog (
                code, bot_id, operator_bot_id, company_id, sender_id, channel_id, state, is_closed,
                operator_id, close_reason, customer_lang, assign_date, close_date, first_reply_date,
                wait_seconds, first_reply_seconds, handling_seconds, message_total, transfer_count,
                first_reply_late, last_activity_date, create_date, write_date, create_uid, write_uid)
            SELECT 'R' || g, (%(bots)s)[1 + g %% 2], (%(bots)s)[1 + g %% 2], %(company)s,
                   (%(senders)s)[1 + g %% 3000], (%(channels)s)[1 + g %% 3], 'closed', true,
                   (%(operators)s)[1 + g %% 20],
                   (ARRAY['customer', 'operator', 'inactivity', 'transfer'])[1 + g %% 4],
                   (ARRAY['uk', 'ru', 'en'])[1 + g %% 3], start, start + interval '20 minutes',
                   start + (g %% 600) * interval '1 second', g %% 900, g %% 600, 1200, 5 + g %% 30,
                   g %% 7 / 6,
                   (g %% 600) > 300, start + interval '20 minutes', start, start, 1, 1
              FROM (SELECT g, now() at time zone 'UTC' - (g %% 365) * interval '1 day'
                                                       - (g %% 24) * interval '1 hour' AS start
                      FROM generate_series(1, %(count)s) g) s
            """,
            {
                "bots": bots.ids,
                "company": bots[0].company_id.id,
                "senders": senders.ids,
                "channels": channels.ids,
                "operators": operators.ids,
                "count": DIALOGS,
            },
        )
        env.cr.execute("ANALYZE chatbot_dialog")
        print(f"inserted {DIALOGS} dialogs in {time.perf_counter() - started:.1f} s")
        manager_id = manager.id
    views = [
        ("graph: dialogs per day", [], ["create_date:day"], ["__count"]),
        (
            "pivot: operators x state",
            [("operator_id", "!=", False)],
            ["operator_id", "state"],
            ["__count", "first_reply_seconds:avg", "handling_seconds:avg", "message_total:avg"],
        ),
        (
            "pivot: month x bot, every average",
            [],
            ["create_date:month", "operator_bot_id"],
            [
                "__count",
                "wait_seconds:avg",
                "first_reply_seconds:avg",
                "handling_seconds:avg",
                "message_total:avg",
                "transfer_count:sum",
            ],
        ),
        ("weekday x hour", [], ["create_date:day_of_week", "create_date:hour_number"], ["__count"]),
        ("late first replies per bot", [], ["operator_bot_id", "first_reply_late"], ["__count"]),
    ]
    worst = 0.0
    with odoo_env(reg) as env:
        Dialog = env["chatbot.dialog"].with_user(manager_id)
        for name, domain, groupby, aggregates in views:
            timings = []
            for _run in range(RUNS):
                env.invalidate_all()
                started = time.perf_counter()
                groups = Dialog._read_group(domain, groupby, aggregates)
                timings.append((time.perf_counter() - started) * 1000)
            median = statistics.median(timings)
            worst = max(worst, median)
            print(f"{name:40s} {median:8.1f} ms median of {RUNS} ({len(groups)} groups)")
    print(f"slowest view: {worst:.1f} ms (target: under {TARGET_MS} ms at {DIALOGS} dialogs)")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
