import logging
import time
from datetime import timedelta

from psycopg2.errors import LockNotAvailable
from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models

from ..tools.connector import MalformedEvent, RetryLater, TransientError, UnsupportedEvent
from ..tools.cron_wakeup import cron_time_budget, trigger_at, wake_cron
from ..tools.queue import MAX_ATTEMPTS, auto_commit, backoff

_logger = logging.getLogger(__name__)

BATCH_SIZE = 50
COMMIT_EVERY = 20
REPLY_BUDGET = 1.0  # seconds an inbound run spends sending the replies it just queued, per channel
INBOUND_CRON = "chatbot_base.ir_cron_chatbot_inbound_process"
HOLD_PARAM = "chatbot_base.inbound_hold_seconds"
HOLD_SECONDS = 60  # the default: how long a failed update may hold its chat's later updates
RETENTION_PARAM = "chatbot_base.inbound_retention_days"
RETENTION_DAYS = 7
# Failures that can heal by waiting, the only ones retried: a conflict with another transaction
# (serialization failure, deadlock), a lock not obtained in time, the messenger's network errors and 5xx
# (a file being downloaded) and its "retry after". Anything else (a malformed update, a bug) fails the
# update at once: retrying it would fail the same way.
TRANSIENT_ERRORS = (TransactionRollbackError, LockNotAvailable, TransientError, RetryLater)


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
    hold_until = fields.Datetime(
        "Holds its chat until",
        readonly=True,
        help="After a failure that may heal by waiting, the later updates of the chat wait for this one "
        "until then; after that they go on, and this one is processed when its next try is due.",
    )
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
        """Lock up to `limit` due rows, at most one of each chat, skipping rows another worker holds: several
        workers and servers can run the queue at once, and one chat stays in order.

        A due row waits while an older pending row of its chat holds it: one never tried, one whose retry
        is due, or one that failed less than its hold ago (`hold_until`, see `_keep_failure`). Past its
        hold, a failed row waiting for its retry no longer holds the chat: the later updates go on, and it
        is processed late, when its retry is due (it then holds the chat's updates still pending). One
        query; the NOT EXISTS walks the partial index of pending rows (channel, chat, id)."""
        self.env.flush_all()  # the SQL below must see the states written by this transaction
        # a serialization failure here is expected with several runners and handled by the caller: not an
        # error in the log ("bad query")
        self.env.cr.execute(
            self._claim_query(ids),
            {"limit": limit, "ids": ids, "now": fields.Datetime.now()},
            log_exceptions=False,
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _claim_query(self, ids=None):
        """The claim's SQL (parameters limit, ids, now); see `_claim`."""
        return f"""
            SELECT i.id FROM chatbot_inbound i
             WHERE i.state = 'pending' AND i.next_try <= %(now)s
               {"AND i.id = ANY(%(ids)s)" if ids is not None else ""}
               AND NOT EXISTS (SELECT 1 FROM chatbot_inbound p
                                WHERE p.channel_id = i.channel_id AND p.chat_key = i.chat_key
                                  AND p.state = 'pending' AND p.id < i.id
                                  AND (p.hold_until IS NULL OR p.hold_until > %(now)s
                                       OR p.next_try <= %(now)s))
             ORDER BY i.id
             LIMIT %(limit)s
             FOR UPDATE SKIP LOCKED
            """  # noqa: S608 - the only interpolation is a constant fragment

    @api.model
    def _cron_process(self, time_budget=None):
        """Process due updates in batches until none is left or the time budget is spent (see
        `cron_time_budget`); with updates left, the job triggers itself again."""
        time_budget = cron_time_budget() if time_budget is None else time_budget
        started = last_commit = time.monotonic()
        done = uncommitted = 0
        caught_up = False
        # the rows processed since the last commit, marked done or ignored in one statement before it
        finished = []
        while time.monotonic() - started < time_budget:
            try:
                batch = self._claim(BATCH_SIZE)
            except TransactionRollbackError:
                # REPEATABLE READ: a row this run's snapshot sees pending was processed since by another
                # runner (the other cron worker, a long poll's run). Nothing is uncommitted here (a claim
                # follows a commit, or the job's start): a new transaction sees it done.
                if not auto_commit():
                    raise
                _logger.debug("chatbot.inbound: a claim met a row processed meanwhile; claiming again")
                self.env.cr.rollback()
                continue
            if not batch:
                caught_up = True
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
        # remaining work is not reported to Odoo (it would call this job up to ten times in a row, past the
        # worker's time limit): the job triggers itself, and the other due jobs run in between
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        if caught_up:
            # nothing can be claimed now (due rows of a held chat wait; rows other workers hold are theirs):
            # waking at once would spin until the hold ends
            self._schedule_next_retry()
        else:
            wake_cron(self.env, INBOUND_CRON)
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
        """Wake the queue when the next pending row falls due, or the next held chat goes on."""
        self.flush_model(["state", "next_try", "hold_until"])
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            SELECT LEAST(min(next_try) FILTER (WHERE next_try > %(now)s),
                         min(hold_until) FILTER (WHERE hold_until > %(now)s))
              FROM chatbot_inbound
             WHERE state = 'pending'
            """,
            {"now": now},
        )
        when = self.env.cr.fetchone()[0]
        if when:
            trigger_at(self.env, INBOUND_CRON, when)

    def _mark_finished(self, finished):
        """Mark the rows of `finished`, pairs (id, 'done' or 'ignored'), processed: one UPDATE for all, in
        the transaction that processed them (a worker killed before its commit leaves them pending)."""
        if not finished:
            return
        ids, states = [row_id for row_id, _state in finished], [state for _row_id, state in finished]
        finished.clear()
        fnames = ["state", "error", "hold_until", "processed_date", "attempts", "write_uid", "write_date"]
        self.flush_model(fnames)  # nothing pending on these rows as a rule; never overwritten after this
        self.env.cr.execute(
            """
            UPDATE chatbot_inbound i
               SET state = f.state, error = NULL, hold_until = NULL, processed_date = %s,
                   attempts = i.attempts + 1,
                   write_uid = %s, write_date = now() at time zone 'UTC'
              FROM unnest(%s::int[], %s::varchar[]) AS f(id, state)
             WHERE i.id = f.id
            """,
            [fields.Datetime.now(), self.env.uid, ids, states],
        )
        self.browse(ids).invalidate_recordset(fnames)

    def _process_one(self, finished=None):
        """Turn one raw update into events and apply them; a failure is kept (see `_keep_failure`).

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
                        answer = connector.acknowledgement(event)
                        if answer:
                            # queued first: the answer leaves before the replies the event brings
                            self.env["chatbot.outbound"]._chatbot_enqueue(connector.channel, answer)
                        connector.channel._chatbot_process_event(event)
                    self.env.flush_all()
        except UnsupportedEvent as error:
            self.write(
                {"state": "ignored", "error": str(error) or False, "processed_date": fields.Datetime.now()}
            )
            return
        except MalformedEvent as error:
            self.write({"state": "failed", "error": str(error), "attempts": self.attempts + 1})
            return
        except Exception as error:  # noqa: BLE001 - kept on the row, with its traceback when permanent
            self.env.invalidate_all(flush=False)
            return self._keep_failure(error)
        state = "done" if events else "ignored"
        if finished is not None:
            finished.append((self.id, state))
            return
        self._mark_finished([(self.id, state)])

    def _keep_failure(self, error):
        """Record a failed attempt of this row. Only a failure that can heal by waiting (TRANSIENT_ERRORS)
        is retried, up to MAX_ATTEMPTS: a conflict with another transaction at once (returns "conflict": the
        caller commits first, for a new snapshot), anything else with back-off. Meanwhile the chat's later
        updates wait for it at most `chatbot_base.inbound_hold_seconds` (default 60) from its first failure,
        then go on. Any other failure marks the row failed at once, with its error, for *Retry*."""
        attempts = self.attempts + 1
        values = {"attempts": attempts, "error": f"{type(error).__name__}: {error}"}
        if not isinstance(error, TRANSIENT_ERRORS) or attempts >= MAX_ATTEMPTS:
            # a bug or an update we cannot handle: its traceback is what a developer needs
            _logger.warning(
                "chatbot.inbound %s: failed after %s attempt(s): %s",
                self.id,
                attempts,
                error,
                exc_info=not isinstance(error, TRANSIENT_ERRORS),
            )
            self.write({**values, "state": "failed"})
            return None
        now = fields.Datetime.now()
        values["hold_until"] = self.hold_until or now + timedelta(seconds=self._hold_seconds())
        if isinstance(error, TransactionRollbackError):
            # a serialization failure or a deadlock with another worker (two routing the same operator):
            # not the update's fault; due at once, retried by the caller right after it commits (a new
            # snapshot); a later due time would wait for the cron's next poll, a minute
            self.write({**values, "next_try": now})
            return "conflict"
        _logger.warning(
            "chatbot.inbound %s: attempt %s failed: %s",
            self.id,
            attempts,
            error,
            exc_info=_logger.isEnabledFor(logging.DEBUG),
        )
        delay = max(backoff(attempts), error.retry_after if isinstance(error, RetryLater) else 0)
        self.write({**values, "next_try": now + timedelta(seconds=delay)})
        return None

    def _hold_seconds(self):
        """Seconds a failed update may hold its chat's later updates (`chatbot_base.inbound_hold_seconds`)."""
        return self._int_param(HOLD_PARAM, HOLD_SECONDS, floor=0)

    def _int_param(self, key, default, floor):
        """A whole-number system parameter of the queue, at least `floor`; `default` when unset or unreadable.
        (`get_param` is cached: no query once read.)"""
        value = self.env["ir.config_parameter"].sudo().get_param(key, default)
        try:
            return max(int(value), floor)
        except (TypeError, ValueError):
            return default

    def action_retry(self):
        """Process these updates again, now."""
        self.filtered(lambda r: r.state in ("failed", "pending")).write(
            {"state": "pending", "next_try": fields.Datetime.now(), "attempts": 0, "hold_until": False}
        )
        self.env.ref("chatbot_base.ir_cron_chatbot_inbound_process")._trigger()
        return True

    @api.model
    def _cron_purge(self):
        """Delete processed updates older than `chatbot_base.inbound_retention_days` (default 7) and failed
        ones older than 30 days, in bounded batches."""
        self.env.flush_all()
        days = self._int_param(RETENTION_PARAM, RETENTION_DAYS, floor=1)
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
