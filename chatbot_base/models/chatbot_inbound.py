import logging
import threading
import time
from datetime import timedelta

from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models

from ..tools.connector import MalformedEvent, UnsupportedEvent
from ..tools.cron_wakeup import cron_time_budget, trigger_at, wake_cron

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH_SIZE = 50
COMMIT_EVERY = 20
REPLY_BUDGET = 1.0  # seconds an inbound run spends sending the replies it just queued, per channel
INBOUND_CRON = "chatbot_base.ir_cron_chatbot_inbound_process"


def backoff(attempts):
    """Seconds to wait before attempt number `attempts + 1`: 10 s, 20 s, 40 s ... at most one hour."""
    return min(10 * 2 ** max(attempts - 1, 0), 3600)


def auto_commit():
    """Queues commit per item in cron workers, never inside tests (the test transaction is rolled back)."""
    return not getattr(threading.current_thread(), "testing", False)


class ChatbotInbound(models.Model):
    """A raw update received from a messenger, stored once per channel and update id, processed after the
    storing transaction commits and retried with back-off until it is done."""

    _name = "chatbot.inbound"
    _description = "Inbound update"
    _order = "id desc"
    _rec_name = "external_id"

    channel_id = fields.Many2one(
        "chatbot.channel", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one("res.company", readonly=True)
    external_id = fields.Char("Update id", required=True, readonly=True)
    chat_key = fields.Char("Chat", readonly=True, help="Updates of one chat are processed in order.")
    payload = fields.Json(readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done"), ("ignored", "Ignored"), ("failed", "Failed")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    next_try = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    processed_date = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("external_id_unique", "UNIQUE(channel_id, external_id)", "An update is stored once per channel."),
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS chatbot_inbound_pending_idx "
            "ON chatbot_inbound (channel_id, chat_key, id) "
            "WHERE state = 'pending'"
        )

    # ------------------------------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------------------------------

    def _claim(self, limit, ids=None):
        """Lock up to `limit` due rows, at most the oldest pending one of each chat, skipping rows another
        worker holds: several workers and servers can run the queue at once, and one chat stays in order."""
        self.env.flush_all()  # the SQL below must see the states written by this transaction
        self.env.cr.execute(
            f"""
            SELECT i.id FROM chatbot_inbound i
             WHERE i.state = 'pending' AND i.next_try <= %(now)s
               {"AND i.id = ANY(%(ids)s)" if ids is not None else ""}
               AND NOT EXISTS (SELECT 1 FROM chatbot_inbound p
                                WHERE p.channel_id = i.channel_id AND p.chat_key = i.chat_key
                                  AND p.state = 'pending' AND p.id < i.id)
             ORDER BY i.id
             LIMIT %(limit)s
             FOR UPDATE SKIP LOCKED
            """,  # noqa: S608 - the only interpolation is a constant fragment
            {"limit": limit, "ids": ids, "now": fields.Datetime.now()},
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _cron_process(self, time_budget=None):
        """Process due updates in batches until none is left or the time budget is spent (see
        `cron_time_budget`); with updates left, the job triggers itself again."""
        time_budget = cron_time_budget() if time_budget is None else time_budget
        started = last_commit = time.monotonic()
        done = uncommitted = 0
        # the rows processed since the last commit, marked done or ignored in one statement before it
        finished = []
        while time.monotonic() - started < time_budget:
            batch = self._claim(BATCH_SIZE)
            if not batch:
                break
            channel_ids = set(batch.channel_id.ids)
            for row in batch:
                conflict = row._process_one(finished) == "conflict"
                done += 1
                uncommitted += 1
                # Commit at a conflict (another transaction changed what this one read: the retry needs a
                # new snapshot), and every few updates or 0.1 s: a worker killed mid-way rolls back only
                # those, which stay pending and are processed again, once; replies wait at most 0.1 s for
                # the commit. The commit releases the locks of the rows left in the batch: claimed again.
                if auto_commit() and (
                    conflict or uncommitted >= COMMIT_EVERY or time.monotonic() - last_commit > 0.1
                ):
                    break
            self._mark_finished(finished)
            if auto_commit():
                self.env.cr.commit()  # pylint: disable=invalid-commit
                last_commit, uncommitted = time.monotonic(), 0
                if len(batch) < BATCH_SIZE:
                    self._send_replies(channel_ids)
        remaining = self.search_count(
            [("state", "=", "pending"), ("next_try", "<=", fields.Datetime.now())], limit=1
        )
        # remaining work is not reported to Odoo (it would call this job up to ten times in a row, past the
        # worker's time limit): the job triggers itself, and the other due jobs run in between
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        if remaining:
            wake_cron(self.env, INBOUND_CRON)
        else:
            self._schedule_next_retry()
        return done

    def _send_replies(self, channel_ids):
        """Send the replies just queued for these channels now, in this run, when the queue is caught up.

        Left to the outbound job, a reply waits for a second wake-up of the cron worker (Odoo reads the due
        jobs once per wake-up and pauses up to 0.1 s after each): measured, twice the reply time of Odoo's
        own website chatbot. With a backlog, updates go first and the outbound job sends meanwhile (on
        another cron worker, or between runs). Sending errors are the outbound queue's to handle: here they
        are logged and never stop the intake."""
        Outbound = self.env["chatbot.outbound"]
        self.env.cr.execute(
            """SELECT DISTINCT channel_id FROM chatbot_outbound
                WHERE state = 'queued' AND next_try <= %s AND channel_id = ANY(%s) ORDER BY channel_id""",
            [fields.Datetime.now(), sorted(channel_ids)],
        )
        for channel in self.env["chatbot.channel"].browse([row[0] for row in self.env.cr.fetchall()]):
            try:
                Outbound._send_channel(channel, time_budget=REPLY_BUDGET, refill=False)
            except Exception:
                _logger.exception("chatbot.channel %s: sending the replies failed", channel.id)
                self.env.cr.rollback()

    def _schedule_next_retry(self):
        later = self.search([("state", "=", "pending")], order="next_try", limit=1)
        if later:
            trigger_at(self.env, INBOUND_CRON, later.next_try)

    def _mark_finished(self, finished):
        """Mark the rows of `finished`, pairs (id, 'done' or 'ignored'), processed: one UPDATE for all, in
        the transaction that processed them (a worker killed before its commit leaves them pending)."""
        if not finished:
            return
        ids, states = [row_id for row_id, _state in finished], [state for _row_id, state in finished]
        finished.clear()
        fnames = ["state", "error", "processed_date", "attempts", "write_uid", "write_date"]
        self.flush_model(fnames)  # nothing pending on these rows as a rule; never overwritten after this
        self.env.cr.execute(
            """
            UPDATE chatbot_inbound i
               SET state = f.state, error = NULL, processed_date = %s, attempts = i.attempts + 1,
                   write_uid = %s, write_date = now() at time zone 'UTC'
              FROM unnest(%s::int[], %s::varchar[]) AS f(id, state)
             WHERE i.id = f.id
            """,
            [fields.Datetime.now(), self.env.uid, ids, states],
        )
        self.browse(ids).invalidate_recordset(fnames)

    def _process_one(self, finished=None):
        """Turn one raw update into events and apply them; a failure is kept and retried with back-off.

        Processed, the row is marked done (or ignored: nothing in it for us); with `finished`, a list, it
        is appended there instead, for `_mark_finished` (one UPDATE for the rows of a commit)."""
        self.ensure_one()
        channel = self.channel_id
        processor = channel.bot_id._chatbot_processor()
        try:
            with self.env.cr.savepoint():
                connector = channel.with_user(processor).with_company(channel.company_id)._chatbot_connector()
                with connector.working(self.chat_key):
                    events = connector.parse(self.payload)
                    for event in events:
                        connector.channel._chatbot_process_event(event)
                        connector.acknowledge(event)
                    self.env.flush_all()
        except UnsupportedEvent as error:
            self.write(
                {"state": "ignored", "error": str(error) or False, "processed_date": fields.Datetime.now()}
            )
            return
        except MalformedEvent as error:
            self.write({"state": "failed", "error": str(error), "attempts": self.attempts + 1})
            return
        except Exception as error:
            self.env.invalidate_all(flush=False)
            attempts = self.attempts + 1
            if isinstance(error, TransactionRollbackError):
                # a serialization failure or a deadlock with another worker (two routing the same operator):
                # not the update's fault; due at once, retried by the caller right after it commits (a new
                # snapshot); a later due time would wait for the cron's next poll, a minute
                self.write(
                    {
                        "attempts": attempts,
                        "error": f"{type(error).__name__}: {error}",
                        "next_try": fields.Datetime.now(),
                        **({"state": "failed"} if attempts >= MAX_ATTEMPTS else {}),
                    }
                )
                return "conflict"
            _logger.warning(
                "chatbot.inbound %s: attempt %s failed: %s",
                self.id,
                attempts,
                error,
                exc_info=_logger.isEnabledFor(logging.DEBUG),
            )
            values = {"attempts": attempts, "error": f"{type(error).__name__}: {error}"}
            if attempts >= MAX_ATTEMPTS:
                values["state"] = "failed"
            else:
                values["next_try"] = fields.Datetime.now() + timedelta(seconds=backoff(attempts))
            self.write(values)
            return
        state = "done" if events else "ignored"
        if finished is not None:
            finished.append((self.id, state))
            return
        self._mark_finished([(self.id, state)])

    def action_retry(self):
        """Process these updates again, now."""
        self.filtered(lambda r: r.state in ("failed", "pending")).write(
            {"state": "pending", "next_try": fields.Datetime.now(), "attempts": 0}
        )
        self.env.ref("chatbot_base.ir_cron_chatbot_inbound_process")._trigger()
        return True

    @api.model
    def _cron_purge(self):
        """Delete processed updates older than `chatbot_base.inbound_retention_days` (default 7) and failed
        ones older than 30 days, in bounded batches."""
        self.env.flush_all()
        days = int(self.env["ir.config_parameter"].sudo().get_param("chatbot_base.inbound_retention_days", 7))
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            DELETE FROM chatbot_inbound WHERE id IN (
                SELECT id FROM chatbot_inbound
                 WHERE (state IN ('done', 'ignored') AND create_date < %s)
                    OR (state = 'failed' AND create_date < %s)
                 LIMIT 10000)
            """,
            [now - timedelta(days=days), now - timedelta(days=max(days, 30))],
        )
        return self.env.cr.rowcount
