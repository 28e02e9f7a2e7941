"""Wake Odoo's cron workers after a commit, cheaply.

`ir.cron._trigger()` creates the trigger with the ORM and, after commit, NOTIFYs the cron workers on a new
connection to the `postgres` database: Odoo never keeps connections to `postgres` in its pool. On the
webhook's hot path that was half of the time of a call (measured: about 5 ms of 10 ms per update, see
README). Here the trigger row is one INSERT in the current transaction, and the NOTIFY goes through one
connection kept per process.
"""

import logging
import threading

import psycopg2
from psycopg2 import sql as pgsql

from odoo import fields, sql_db

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_connection = None


def _notify(dbname):
    """NOTIFY the cron workers (who LISTEN on the `postgres` database) that `dbname` has work."""
    global _connection
    with _lock:
        for _attempt in range(2):
            try:
                if _connection is None or _connection.closed:
                    _dsn_db, info = sql_db.connection_info_for("postgres")
                    _connection = psycopg2.connect(**info)
                    _connection.autocommit = True
                with _connection.cursor() as cr:
                    cr.execute(
                        pgsql.SQL("SELECT {}('cron_trigger', %s)").format(
                            pgsql.Identifier(ODOO_NOTIFY_FUNCTION)
                        ),
                        [dbname],
                    )
                return
            except psycopg2.Error as error:
                _logger.debug("cron wake-up: reconnecting after %s", error)
                if _connection is not None and not _connection.closed:
                    _connection.close()
                _connection = None


def wake_cron(env, xmlid):
    """Run the cron `xmlid` as soon as this transaction commits."""
    cron_id = env["ir.model.data"]._xmlid_to_res_id(xmlid)
    env.cr.execute(
        """INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date)
           VALUES (%s, now() at time zone 'UTC', %s, %s,
                   now() at time zone 'UTC', now() at time zone 'UTC')""",
        [cron_id, env.uid, env.uid],
    )
    dbname = env.cr.dbname
    env.cr.postcommit.add(lambda: _notify(dbname))


def trigger_at(env, xmlid, when, horizon=60):
    """`ir.cron._trigger(when)`, and a NOTIFY at that time when it is less than `horizon` seconds away
    (`wake_cron` when it is due already).

    Odoo NOTIFYs its cron workers only for a trigger that is already due; one in the future waits for
    their next poll, up to 70 s (a 429's retry_after of 2 s, a message's next attempt in 10 s, then held
    a minute). Here a timer of this process sends the NOTIFY when the time comes; if the process is gone
    by then, the poll still finds the trigger."""
    delay = (when - fields.Datetime.now()).total_seconds()
    if delay <= 0:
        wake_cron(env, xmlid)  # due: Odoo's _trigger would open a new connection for its NOTIFY
        return
    env.ref(xmlid)._trigger(when)
    if delay <= horizon:
        dbname = env.cr.dbname

        def start():
            timer = threading.Timer(delay + 0.05, _notify, [dbname])
            timer.daemon = True
            timer.start()

        env.cr.postcommit.add(start)


def cron_time_budget(longest=10.0):
    """Seconds one run of a queue's cron job may work before it hands the worker back.

    Odoo kills a cron job after `limit_time_real_cron` seconds (default: `limit_time_real`, 120 s) of one
    `_process_job`, which calls a job that reports remaining work up to ten times in a row: the queues
    therefore never report remaining work to Odoo, they stop after this budget and trigger themselves again,
    which also lets the other due jobs (replies waiting in the outbound queue) run in between. A quarter
    of the limit, at most `longest` seconds."""
    from odoo.tools import config

    limit = config.get("limit_time_real_cron") or 0
    if limit < 0:  # -1: the same as limit_time_real
        limit = config.get("limit_time_real") or 0
    return min(longest, limit / 4) if limit > 0 else longest
