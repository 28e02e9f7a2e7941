import collections
import json
import logging
import time
from datetime import timedelta

from odoo import api, fields, models

from ..tools.connector import (
    ChatMigrated,
    ConnectorError,
    OutboundMessage,
    RecipientBlocked,
    RetryLater,
    TransientError,
)
from ..tools.cron_wakeup import cron_time_budget, trigger_at, wake_cron
from ..tools.queue import MAX_ATTEMPTS, auto_commit, backoff

_logger = logging.getLogger(__name__)

# Key space of the session advisory locks that make one worker at a time send for a channel.
ADVISORY_LOCK_SPACE = 720_519
HEADS_PER_ROUND = 200
# seconds of messages (at the channel's rate) marked 'sending' together: what a killed worker leaves in doubt
ROUND_SECONDS = 0.1
STALE_SENDING = timedelta(minutes=10)
OUTBOUND_CRON = "chatbot_base.ir_cron_chatbot_outbound_send"


class ChatbotOutbound(models.Model):
    """One effect on a messenger (a message to send, edit or copy, a topic to create, rename or close, a
    button's answer: `kind`), carried out after the transaction that queued it commits, in order per chat, at
    the channel's rate, retried until done or failed for a stated reason. The only road to a messenger."""

    _name = "chatbot.outbound"
    _description = "Outbound message"
    _order = "id desc"

    channel_id = fields.Many2one(
        "chatbot.channel", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    dialog_id = fields.Many2one("chatbot.dialog", ondelete="set null", index="btree_not_null", readonly=True)
    sender_id = fields.Many2one(
        "chatbot.sender", "Recipient", ondelete="set null", index="btree_not_null", readonly=True
    )
    chat_id = fields.Char(required=True, readonly=True)
    kind = fields.Selection(
        [
            ("send", "Message"),
            ("edit", "Edit"),
            ("copy", "Copy"),
            ("topic_create", "New topic"),
            ("topic_rename", "Topic renamed"),
            ("topic_close", "Topic closed"),
            ("topic_reopen", "Topic reopened"),
            ("answer", "Button answered"),
        ],
        default="send",
        required=True,
        readonly=True,
    )
    payload = fields.Json(readonly=True)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sending", "Sending"),
            ("sent", "Sent"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    next_try = fields.Datetime(readonly=True, default=fields.Datetime.now)
    provider_message_id = fields.Char("Messenger message id", readonly=True)
    error = fields.Text(readonly=True)
    recipient_blocked = fields.Boolean(
        readonly=True, help="The messenger refused the message because the recipient blocked the bot."
    )
    sent_date = fields.Datetime(readonly=True)

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS chatbot_outbound_queued_idx "
            "ON chatbot_outbound (channel_id, chat_id, id) "
            "WHERE state = 'queued'"
        )

    @api.model
    def _chatbot_enqueue(self, channel, message, dialog=None, sender=None, wake=True):
        """Queue `message` (an OutboundMessage) on `channel` and, with `wake`, wake the sender cron after
        commit."""
        # sudo: the queue is technical; whoever may write to a customer may queue the message
        row = self.sudo().create(
            {
                "channel_id": channel.id,
                "dialog_id": dialog.id if dialog else False,
                "sender_id": sender.id if sender else False,
                "chat_id": message.chat_id,
                "kind": message.kind,
                "payload": message.to_dict(),
            }
        )
        if wake:
            wake_cron(self.env, OUTBOUND_CRON)
        return row

    def _chatbot_send_now(self, connector):
        """Send this queued row at once, in this transaction, through the queue's own steps (marked sending,
        sent, its outcome recorded), when it is its chat's head; else it stays queued for the cron. For a
        messenger that is a table of this database (the website live chat), where the customer waits in the
        same request: see chatbot_livechat."""
        self.ensure_one()
        if self._queued_of_chat().filtered(lambda row: row.id < self.id):
            wake_cron(self.env, OUTBOUND_CRON)
            return self.state
        rows = self._mark_sending(self.ids)
        if rows:
            outcome, provider_message_id = rows._send_marked(connector, rows._chatbot_message())
            if outcome == "sent":
                rows._record_sent([(rows.id, str(provider_message_id or ""))])
            elif outcome != "failed":
                wake_cron(self.env, OUTBOUND_CRON)
        return self.state

    # ------------------------------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_send(self, time_budget=None):
        """Send due messages of every channel, one worker per channel at a time, for at most the time budget
        (see `cron_time_budget`); the job then triggers itself for what is left."""
        time_budget = cron_time_budget() if time_budget is None else time_budget
        started = time.monotonic()
        self._fail_stale_sending()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT DISTINCT channel_id FROM chatbot_outbound WHERE state = 'queued' AND next_try <= %s",
            [fields.Datetime.now()],
        )
        sent = 0
        for (channel_id,) in self.env.cr.fetchall():
            left = time_budget - (time.monotonic() - started)
            if left <= 0:
                break
            sent += self._send_channel(self.env["chatbot.channel"].browse(channel_id), left)
        self._schedule_next()
        return sent

    def _schedule_next(self):
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT min(greatest(o.next_try, coalesce(c.hold_until, o.next_try)))
                 FROM chatbot_outbound o JOIN chatbot_channel c ON c.id = o.channel_id
                WHERE o.state = 'queued'"""
        )
        (when,) = self.env.cr.fetchone()
        if when:
            trigger_at(self.env, OUTBOUND_CRON, max(when, fields.Datetime.now()))

    def _fail_stale_sending(self):
        """A worker killed during an API call leaves its row 'sending'. Whether the messenger got it is
        unknown: sending it again could deliver it twice, so it is marked failed with that reason. The next
        run on the channel does it at once (`_fail_orphaned_sending`); this is the net for a channel that
        sends nothing more."""
        stale = self.search(
            [("state", "=", "sending"), ("write_date", "<", fields.Datetime.now() - STALE_SENDING)]
        )
        stale.write({"state": "failed", "error": self._delivery_unknown()})

    def _fail_orphaned_sending(self, channel):
        """Rows of `channel` left 'sending' by a worker that died (SIGKILL, OOM, a lost server): only the
        holder of the channel's advisory lock marks rows 'sending', and PostgreSQL releases that lock when
        the holder's connection dies, so the rows found here, lock in hand, are nobody's. Whether the
        messenger got them is unknown: failed with that reason at once, never sent twice (the broadcast they
        belong to goes on and finishes instead of waiting for `STALE_SENDING`)."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM chatbot_outbound WHERE channel_id = %s AND state = 'sending'", [channel.id]
        )
        orphans = self.browse([row[0] for row in self.env.cr.fetchall()])
        if orphans:
            _logger.warning(
                "chatbot.channel %s: %s message(s) left 'sending' by a stopped worker, failed as delivery "
                "unknown",
                channel.id,
                len(orphans),
            )
            orphans.write({"state": "failed", "error": self._delivery_unknown()})

    def _delivery_unknown(self):
        return self.env._(
            "The worker stopped while sending: delivery unknown, not sent again to avoid a duplicate."
        )

    def _send_channel(self, channel, time_budget, refill=True):
        """Send the channel's due messages at its rate limits for at most `time_budget` seconds; with
        `refill`, the queue is topped up as it runs low (`_chatbot_refill`: the next broadcast recipients).
        The inbound run sending the replies it just queued does not refill: a broadcast is the outbound
        job's to send, not a reason to hold up the customers' updates."""
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_SPACE, channel.id])
        if not cr.fetchone()[0]:
            return 0  # another worker is sending for this channel
        try:
            return self._send_channel_locked(channel, time_budget, refill)
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_SPACE, channel.id])

    def _send_channel_locked(self, channel, time_budget, refill=True):
        self._fail_orphaned_sending(channel)
        connector = channel._chatbot_connector()
        limits = connector.rate_limits()
        # the ends of the last sends, maybe by another worker: the limit holds across runs
        channel.invalidate_recordset(["outbound_recent_sends"])
        pacer = _Pacer(limits, connector.is_group_chat, recent_sends=channel.outbound_recent_sends)
        # a round: about ROUND_SECONDS of messages at the channel's rate, marked 'sending' together
        round_size = max(1, min(HEADS_PER_ROUND, int(limits.per_second * ROUND_SECONDS)))
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < time_budget:
            channel.invalidate_recordset(["hold_until"])
            if channel.hold_until and channel.hold_until > fields.Datetime.now():
                wait = (channel.hold_until - fields.Datetime.now()).total_seconds()
                if wait > time_budget - (time.monotonic() - started):
                    break
                time.sleep(wait)
            heads = self._due_heads(channel)
            if (
                refill
                and len(heads) < HEADS_PER_ROUND
                and self._chatbot_refill(channel, HEADS_PER_ROUND - len(heads))
            ):
                if auto_commit():
                    # the refilled rows exist, linked to what they deliver, before any of them is sent
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                heads = self._due_heads(channel)
            if not heads:
                break
            outcomes = set()
            ids = heads.ids
            for index in range(0, len(ids), round_size):
                if time.monotonic() - started >= time_budget:
                    break
                round_outcomes, round_sent = self._send_round(
                    ids[index : index + round_size], connector, pacer
                )
                outcomes |= round_outcomes
                sent += round_sent
                if "hold" in round_outcomes:
                    break
            if outcomes <= {"retry"}:
                break  # only transient errors this round: the back-off decides when to try again
        else:
            # the budget is spent, maybe just as the queue ran empty with a broadcast still to feed it:
            # the next run must not wait for anyone else's wake-up (measured: a 53 s pause at 10,000)
            wake_cron(self.env, OUTBOUND_CRON)
        if sent:
            self.env.cr.execute(
                "UPDATE chatbot_channel SET outbound_recent_sends = %s WHERE id = %s",
                [json.dumps(pacer.recent_sends()), channel.id],
            )
            channel.invalidate_recordset(["outbound_recent_sends"])
        return sent

    def _chatbot_refill(self, channel, limit):
        """Hook: queue up to `limit` more messages on `channel` while its queue runs low (chatbot_operator
        feeds the next recipients of a broadcast here, so a long broadcast never stands in front of the
        replies to customers). Returns how many rows it queued."""
        return 0

    def _due_heads(self, channel):
        """The oldest queued message of each chat of `channel`, when it is due (order is kept per chat)."""
        self.env.flush_all()  # the SQL below must see the states written by this transaction
        self.env.cr.execute(
            """
            SELECT id FROM (
                SELECT DISTINCT ON (chat_id) id, next_try FROM chatbot_outbound
                 WHERE channel_id = %s AND state = 'queued' ORDER BY chat_id, id
            ) heads WHERE next_try <= %s ORDER BY id LIMIT %s
            """,
            [channel.id, fields.Datetime.now(), HEADS_PER_ROUND],
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _send_round(self, ids, connector, pacer):
        """Send a round of heads (one per chat): mark them all 'sending' in one statement and commit, send
        them one by one at the pace of `pacer`, then record their outcomes and commit. Returns the set of
        outcomes and how many were sent.

        A worker killed during the round leaves the whole round 'sending' (at most ROUND_SECONDS of
        messages at the channel's rate): `_fail_stale_sending` fails those rows, never sends them again."""
        rows = self._mark_sending(ids)
        # read before the commit empties the cache: one query for the whole round
        messages = list(zip(rows, rows.mapped("chat_id"), rows._chatbot_messages(), strict=True))
        if auto_commit():
            # a worker killed during the calls leaves 'sending': never sent twice
            self.env.cr.commit()  # pylint: disable=invalid-commit
        outcomes, delivered = set(), []
        for index, (row, chat_id, message) in enumerate(messages):
            paced = connector.paced(message)
            if paced:
                pacer.wait(chat_id)
            try:
                outcome, provider_message_id = row._send_marked(connector, message)
            finally:
                if paced:
                    pacer.done()
            outcomes.add(outcome)
            if outcome == "sent":
                delivered.append((row.id, str(provider_message_id or "")))
            elif outcome == "hold":
                # the channel waits: the rest of the round was never sent, it goes back to the queue
                self._unmark_sending([other.id for other, _chat_id, _message in messages[index + 1 :]])
                break
        self._record_sent(delivered)
        if auto_commit():
            # the round's outcomes are kept whatever happens next
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return outcomes, len(delivered)

    def _chatbot_messages(self):
        """The OutboundMessage of each row, threads named by an earlier row (`thread_from`) filled in with
        its result: the chat's order made that row done before this one. When it failed (no topic), the
        message goes out of any thread with its `fallback_text`."""
        messages = [OutboundMessage.from_dict(row.payload) for row in self]
        threads = self.browse({m.thread_from for m in messages if m.thread_from and not m.thread_id})
        results = {row.id: row.provider_message_id for row in threads.exists() if row.state == "sent"}
        for message in messages:
            if message.thread_from and not message.thread_id:
                message.thread_id = results.get(message.thread_from) or ""
                if not message.thread_id and message.fallback_text:
                    message.text = message.fallback_text
        return messages

    def _chatbot_message(self):
        self.ensure_one()
        return self._chatbot_messages()[0]

    def _mark_sending(self, ids):
        """Mark the queued rows among `ids` 'sending' (one attempt more) in one statement; returns them in
        the order of `ids`."""
        if not ids:
            return self.browse()
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE chatbot_outbound
                  SET state = 'sending', attempts = coalesce(attempts, 0) + 1, write_uid = %s,
                      write_date = now() at time zone 'UTC'
                WHERE id = ANY(%s) AND state = 'queued'
            RETURNING id""",
            [self.env.uid, list(ids)],
        )
        marked = {row[0] for row in self.env.cr.fetchall()}
        rows = self.browse([row_id for row_id in ids if row_id in marked])
        rows.invalidate_recordset(["state", "attempts", "write_uid", "write_date"])
        return rows

    def _unmark_sending(self, ids):
        """Put rows marked 'sending' but never sent back in the queue, without counting the attempt."""
        if not ids:
            return
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE chatbot_outbound
                  SET state = 'queued', attempts = greatest(coalesce(attempts, 0) - 1, 0), write_uid = %s,
                      write_date = now() at time zone 'UTC'
                WHERE id = ANY(%s) AND state = 'sending'""",
            [self.env.uid, list(ids)],
        )
        self.browse(ids).invalidate_recordset(["state", "attempts", "write_uid", "write_date"])

    def _record_sent(self, delivered):
        """Record the rows sent, `delivered` = [(id, messenger's message id)]: their ids in one statement,
        their state in one write, their dialog messages' external ids in one statement."""
        if not delivered:
            return
        cr = self.env.cr
        rows = self.browse([row_id for row_id, _provider_id in delivered])
        self.flush_model(["provider_message_id"])
        cr.execute(
            """UPDATE chatbot_outbound o SET provider_message_id = v.provider_message_id
                 FROM unnest(%s::int[], %s::varchar[]) AS v(id, provider_message_id)
                WHERE o.id = v.id""",
            [rows.ids, [provider_id for _row_id, provider_id in delivered]],
        )
        rows.invalidate_recordset(["provider_message_id"])
        rows.modified(["provider_message_id"])
        # one write for the round: the hooks on the state (broadcast recipients) run once
        rows.write({"state": "sent", "error": False, "sent_date": fields.Datetime.now()})
        in_dialogs = rows.filtered("dialog_id")
        if in_dialogs:
            self.env["chatbot.dialog.message"].flush_model(["external_id", "outbound_id"])
            cr.execute(
                """UPDATE chatbot_dialog_message m
                      SET external_id = o.provider_message_id, write_uid = %s,
                          write_date = now() at time zone 'UTC'
                     FROM chatbot_outbound o
                    WHERE o.id = ANY(%s) AND m.outbound_id = o.id AND o.provider_message_id <> ''
                RETURNING m.id""",
                [self.env.uid, in_dialogs.ids],
            )
            messages = self.env["chatbot.dialog.message"].browse([row[0] for row in cr.fetchall()])
            messages.invalidate_recordset(["external_id", "write_uid", "write_date"])
            messages.modified(["external_id"])

    def _send_marked(self, connector, message):
        """Send one message already marked 'sending'; returns (outcome, messenger's id): the outcome is
        'sent' (recorded by the caller, with the round), 'retry', 'migrated' (send again now), 'failed' or
        'hold' (stop the channel for now), recorded here."""
        self.ensure_one()
        if message.thread_from and not message.thread_id and not message.fallback_text:
            # meant for a thread that was never made (a topic's creation failed): nothing to say elsewhere
            self.write(
                {"state": "cancelled", "error": self.env._("Its thread (a forum topic) was never created.")}
            )
            return "failed", None
        try:
            if message.kind not in connector.kinds:
                raise connector.unsupported(message)
            provider_message_id = connector.send(message)
        except RetryLater as error:
            hold = fields.Datetime.now() + timedelta(seconds=max(error.retry_after, 1))
            self.write({"state": "queued", "attempts": self.attempts - 1, "error": str(error)})
            if error.scope == "chat":
                (self | self._queued_of_chat()).write({"next_try": hold})
                return "retry", None
            self.channel_id.hold_until = hold
            return "hold", None
        except RecipientBlocked as error:
            reason = str(error) or self.env._("The recipient blocked the bot.")
            (self | self._queued_of_chat()).write(
                {"state": "failed", "error": reason, "recipient_blocked": True}
            )
            if self.sender_id:
                self.sender_id.is_blocked = True
            return "failed", None
        except ChatMigrated as error:
            self._queued_of_chat().write({"chat_id": error.new_chat_id})
            payload = dict(self.payload, chat_id=error.new_chat_id)
            self.write(
                {"state": "queued", "chat_id": error.new_chat_id, "payload": payload, "error": str(error)}
            )
            if self.sender_id and self.sender_id.chat_id != error.new_chat_id:
                self.sender_id.chat_id = error.new_chat_id
            return "migrated", None
        except TransientError as error:
            return self._retry_or_fail(str(error)), None
        except ConnectorError as error:
            self.write({"state": "failed", "error": str(error)})
            return "failed", None
        except Exception as error:
            _logger.exception("chatbot.outbound %s: unexpected error", self.id)
            return self._retry_or_fail(f"{type(error).__name__}: {error}"), None
        return "sent", provider_message_id

    def _retry_or_fail(self, reason):
        if self.attempts >= MAX_ATTEMPTS:
            self.write({"state": "failed", "error": reason})
            return "failed"
        self.write(
            {
                "state": "queued",
                "error": reason,
                "next_try": fields.Datetime.now() + timedelta(seconds=backoff(self.attempts)),
            }
        )
        return "retry"

    def _queued_of_chat(self):
        return self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("chat_id", "=", self.chat_id),
                ("state", "=", "queued"),
                ("id", "!=", self.id),
            ]
        )

    def action_retry(self):
        """Send these messages again."""
        self.filtered(lambda r: r.state in ("failed", "cancelled")).write(
            {
                "state": "queued",
                "next_try": fields.Datetime.now(),
                "attempts": 0,
                "error": False,
                "recipient_blocked": False,
            }
        )
        self.env.ref(OUTBOUND_CRON)._trigger()
        return True

    def action_cancel(self):
        """Do not send these messages."""
        self.filtered(lambda r: r.state == "queued").write({"state": "cancelled"})
        return True


class _Pacer:
    """Spaces the sends of one worker so that a channel never exceeds its limits: overall per second,
    per chat per second, per group per minute. One worker sends for a channel at a time (advisory lock),
    so pacing in memory holds the limit across workers.

    The overall limit is kept two ways: the sends are spaced by 1/per_second, and a send that starts late
    (the queue's own work between rounds: a commit, a refill) lets the next ones follow sooner, to catch up
    at most CATCH_UP seconds; and a send starts at least one second after the end of the send per_second
    sends before it (`done`): the messenger, which got that one before its answer came back, never gets
    more than per_second in any second, whatever the network's delays. A new pacer (a new run of the queue)
    starts with no catch-up and with the ends of the channel's last sends (`recent_sends`, seconds since the
    epoch, maybe another worker's; `recent_sends()` gives them at the end of a run)."""

    CATCH_UP = 0.25

    def __init__(self, limits, is_group, clock=time.monotonic, sleep=time.sleep, recent_sends=None):
        self.limits = limits
        self.is_group = is_group
        self.clock = clock
        self.sleep = sleep
        self.next_global = clock()
        self.next_chat = {}
        self.group_sends = collections.defaultdict(collections.deque)
        # the end of the last per_second sends, the channel's previous ones (wall clock) included
        self.recent = collections.deque(maxlen=max(1, int(limits.per_second)))
        offset = self.next_global - time.time()
        self.recent.extend(
            sorted(wall + offset for wall in recent_sends or () if wall + offset > self.next_global - 1)
        )

    def wait(self, chat_id):
        now = self.clock()
        next_global = max(self.next_global, now - self.CATCH_UP)
        moments = [next_global, self.next_chat.get(chat_id, 0.0)]
        if len(self.recent) == self.recent.maxlen:
            moments.append(self.recent[0] + 1.0)
        group = self.is_group(chat_id)
        if group:
            window = self.group_sends[chat_id]
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.limits.per_group_per_minute:
                moments.append(window[0] + 60)
        start = max([now, *moments])
        if start > now:
            self.sleep(start - now)
        self.next_global = next_global + 1.0 / self.limits.per_second
        self.next_chat[chat_id] = start + 1.0 / self.limits.per_chat_per_second
        if group:
            self.group_sends[chat_id].append(start)
        return start

    def recent_sends(self):
        """The ends of the sends of the last second, in seconds since the epoch (for the next pacer)."""
        now = self.clock()
        offset = time.time() - now
        return [moment + offset for moment in self.recent if moment > now - 1]

    def done(self):
        """The send that `wait` let start has ended (its answer came back, or it failed)."""
        self.recent.append(self.clock())
