"""Benchmark of the operator bot's routing and timeouts, in one worker, without HTTP.

Run with `./bots bench routing`. Prepares one consultation bot with BENCH_OPERATORS Odoo operators (default
200) and BENCH_DIALOGS open dialogs (default 10,000, spread over them and the queue), then measures:
  1. routing one new dialog (pick the operator, assign, greetings queued): time and SQL queries, and the
     same for the bare routing query; both must not grow with the number of dialogs;
  2. the timeouts cron closing BENCH_TIMEOUTS dialogs (default 100,000) in bounded batches: dialogs per
     second and the largest batch.
"""

import os
import sys
import time
from datetime import timedelta

from harness import odoo_env, registry, set_online, settings

OPERATORS = int(os.environ.get("BENCH_OPERATORS", 200))
DIALOGS = int(os.environ.get("BENCH_DIALOGS", 10_000))
TIMEOUTS = int(os.environ.get("BENCH_TIMEOUTS", 100_000))
ROUTED = int(os.environ.get("BENCH_ROUTED", 200))


def insert_dialogs(env, bot, senders, count, state, operator_ids=None, stamp=None):
    """Dialogs by plain SQL (creating 100,000 with the ORM would measure the ORM, not the routing)."""
    env.cr.execute(
        """
        INSERT INTO chatbot_dialog (code, bot_id, operator_bot_id, company_id, sender_id, channel_id, state,
                                    is_closed, operator_id, queue_date, last_activity_date, create_date,
                                    write_date, create_uid, write_uid)
        SELECT 'B' || g, %(bot)s, %(bot)s, %(company)s, (%(senders)s)[1 + g %% %(nsenders)s], %(channel)s,
               %(state)s, false,
               CASE WHEN %(state)s = 'active' THEN (%(operators)s)[1 + g %% %(noperators)s] END,
               CASE WHEN %(state)s = 'waiting' THEN %(stamp)s END, %(stamp)s, %(stamp)s, %(stamp)s, 1, 1
          FROM generate_series(1, %(count)s) g
        """,
        {
            "bot": bot.id,
            "company": bot.company_id.id,
            "senders": senders,
            "nsenders": len(senders),
            "channel": bot.channel_ids[:1].id,
            "state": state,
            "operators": operator_ids or [0],
            "noperators": len(operator_ids or [0]),
            "count": count,
            "stamp": stamp,
        },
    )


def main():
    import odoo.sql_db
    from odoo import fields

    conf = settings()
    reg = registry(conf)
    now = fields.Datetime.now()
    with odoo_env(reg) as env:
        env.cr.execute("DROP INDEX IF EXISTS chatbot_dialog_open_unique")  # many open dialogs per sender here
        bot = env["chatbot.bot"].create(
            {
                "name": "Routing benchmark",
                "bot_type": "operator",
                "max_parallel_chats": DIALOGS,
                "wait_start_message": False,
            }
        )
        channel = env["chatbot.channel"].create(
            {"name": "Routing benchmark", "bot_id": bot.id, "provider": "telegram"}
        )
        users = env["res.users"].create(
            [
                {
                    "name": f"Operator {i}",
                    "login": f"bench_op_{i}",
                    "groups_id": [(4, env.ref("chatbot_base.chatbot_base_group_user").id)],
                }
                for i in range(OPERATORS)
            ]
        )
        operators = env["chatbot.operator"].create([{"bot_id": bot.id, "user_id": u.id} for u in users])
        set_online(env, users.ids)
        senders = env["chatbot.sender"].create(
            [
                {"name": f"Customer {i}", "channel_id": channel.id, "external_id": str(600_000 + i)}
                for i in range(1000)
            ]
        )
        env.flush_all()
        insert_dialogs(env, bot, senders.ids, DIALOGS, "active", operators.ids, now)
        operators._chatbot_update_load()
        bot_id, sender_ids = bot.id, senders.ids
    with odoo_env(reg) as env:
        bot = env["chatbot.bot"].browse(bot_id)
        Dialog = env["chatbot.dialog"].with_context(tracking_disable=True)
        partner = env["res.partner"].create({"name": "Routed customer"})
        bot._chatbot_pick_operator(partner)
        queries = odoo.sql_db.sql_counter
        started = time.perf_counter()
        for _i in range(ROUTED):
            bot._chatbot_pick_operator(partner)
        pick_ms = (time.perf_counter() - started) / ROUTED * 1000
        pick_queries = (odoo.sql_db.sql_counter - queries) / ROUTED
        routed = []
        queries = odoo.sql_db.sql_counter
        started = time.perf_counter()
        for i in range(ROUTED):
            dialog = Dialog.create({"bot_id": bot_id, "sender_id": sender_ids[i], "partner_id": partner.id})
            dialog._chatbot_request_operator()
            routed.append(dialog)
        env.flush_all()
        route_ms = (time.perf_counter() - started) / ROUTED * 1000
        route_queries = (odoo.sql_db.sql_counter - queries) / ROUTED
        states = {d.state for d in routed}
        env.cr.execute(
            """SELECT max(active_dialog_count) - min(active_dialog_count)
                 FROM chatbot_operator WHERE bot_id = %s""",
            [bot_id],
        )
        spread = env.cr.fetchone()[0]
    print(
        f"routing with {DIALOGS} open dialogs and {OPERATORS} operators: routing query {pick_ms:.2f} ms, "
        f"{pick_queries:.1f} SQL queries; a new dialog routed end to end (dialog, Discuss conversation, "
        f"greetings queued) {route_ms:.1f} ms, {route_queries:.1f} SQL queries; states {sorted(states)}; "
        f"load spread after {ROUTED} routed: {spread}"
    )
    with odoo_env(reg) as env:
        bot = env["chatbot.bot"].browse(bot_id)
        bot.sudo().write({"max_waiting_time": 10})
        env.flush_all()
        env.cr.execute(
            "UPDATE chatbot_dialog SET state = 'closed', is_closed = true WHERE bot_id = %s", [bot_id]
        )
        insert_dialogs(env, bot, sender_ids, TIMEOUTS, "waiting", stamp=now - timedelta(hours=1))
        env.cr.execute(
            "UPDATE ir_cron SET active = false WHERE id = %s",
            [env.ref("chatbot_operator.ir_cron_chatbot_operator_queue").id],
        )
    with odoo_env(reg) as env:
        started = time.perf_counter()
        closed, runs = 0, 0
        while True:
            done = (
                env["chatbot.dialog"]
                .with_context(bench=True)
                ._cron_operator_queue(batch_size=500, time_budget=10)
            )
            env.cr.commit()
            runs += 1
            closed += done
            if not done:
                break
        elapsed = time.perf_counter() - started
        env.cr.execute(
            "SELECT count(*) FROM chatbot_dialog WHERE bot_id = %s AND state = 'waiting'", [bot_id]
        )
        left = env.cr.fetchone()[0]
    print(
        f"timeouts: {TIMEOUTS} waiting dialogs past the max waiting time closed with the timeout text in "
        f"{elapsed:.1f} s ({closed / elapsed:.0f} dialogs/s), batches of 500, {runs} cron runs, {left} left"
    )
    return 0 if left == 0 and states == {"active"} else 1


if __name__ == "__main__":
    sys.exit(main())
