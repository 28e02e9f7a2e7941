"""End-to-end: the routing invariants of a consultation bot ("Operator Chat") while its customers and its
operators act at the same time. Ten Telegram customers write through the real webhook, each from their own
thread; three Odoo operators (max parallel chats 2) end and transfer dialogs over JSON-RPC as themselves; a
watcher reads the database all along (each sample one snapshot) and checks:

(a) no operator ever has more dialogs than the max parallel chats, active and offered ones counted together;
(b) an operator's stored load (active_dialog_count, offers included) is the true count from the dialogs;
(c) every customer is with an operator, waiting with their place told, or closed: at most one open dialog
    per customer and bot, none lost, none assigned twice;
(d) first come, first served: nobody gets an operator while someone ahead of them in the queue, whom that
    operator may take, still waits.

Twice: dialogs given at once, then in accept mode (operators accept, one declines, one lets an offer run
out). A customer's current dialog is the one of theirs that is not closed (a transfer closes the dialog and
a child dialog carries it on)."""

import itertools
import random
import re
import threading
import time
from collections import namedtuple
from types import SimpleNamespace

import psycopg2
import pytest
from harness import Rpc, RpcError, odoo_env, post_json, set_online, telegram_channel, telegram_world
from psycopg2.errors import SerializationFailure

pytestmark = pytest.mark.e2e

MAX_CHATS = 2
PASSWORD = "e2e-Routing-pw-1"
CONNECTED = "connected to chat. Please start messaging!"
COMPLETED = "Consultation completed"
TRANSFER_TEXT = "We are passing you to another consultant. Please wait a moment."
QUEUE_TEXT = re.compile(r"All operators are busy\. You are number (\d+) in the queue\.")
QUEUE_CRON = "chatbot_operator.ir_cron_chatbot_operator_queue"
# how long a change may take to reach the customers: one cron worker processes every queue in turn
PROMPT = 15
# how long a customer may wait in the queue without having been told their place
UNTOLD_GRACE = 10
_numbers = itertools.count(1)
_update_ids = itertools.count(9_700_000)


@pytest.fixture(scope="module")
def world():
    with telegram_world() as world:
        yield world


def set_queue_nextcall(world, delay):
    """Move the operator queue cron's next run to now + `delay` (SQL interval). The cron worker may be running
    the job and updating its row: retried on PostgreSQL's serialization failure."""
    for _attempt in range(50):
        try:
            with odoo_env(world.reg) as env:
                env.cr.execute(
                    "UPDATE ir_cron SET nextcall = (now() at time zone 'UTC') + %s::interval WHERE id = %s",
                    [delay, env.ref(QUEUE_CRON).id],
                )
            return
        except SerializationFailure:
            time.sleep(0.1)
    raise AssertionError("the queue cron's row stayed locked for 5 s")


@pytest.fixture
def no_queue_tick(world):
    """The operator queue's cron job runs only when something triggers it, not on its minute: a customer is
    served when an operator frees up, not up to a minute later by chance."""
    set_queue_nextcall(world, "1 hour")
    yield
    set_queue_nextcall(world, "0 seconds")


# ------------------------------------------------------------------------------------------------
# The bot, its operators and customers
# ------------------------------------------------------------------------------------------------


def routing_bot(world, title, **settings):
    """A consultation bot (max parallel chats 2) with a Telegram channel connected to the fake, and three Odoo
    users in the Bots User group who joined it over JSON-RPC and are online."""
    n = next(_numbers)
    token = f"9877{n:05d}:E2E-routing-{n}"
    world.fake.add_bot(token, username=f"e2e_routing_{n}_bot", first_name=title)
    with odoo_env(world.reg) as env:
        bot = env["chatbot.bot"].create(
            {"name": f"{title} {n}", "bot_type": "operator", "max_parallel_chats": MAX_CHATS, **settings}
        )
        ids = SimpleNamespace(**telegram_channel(env, bot, world.fake, world.server, f"{title} {n}", token))
    operators = []
    for letter in "ABC":
        name, login = f"Operator {letter}{n}", f"e2e-routing-{n}-{letter.lower()}"
        with odoo_env(world.reg) as env:
            group = env.ref("chatbot_base.chatbot_base_group_user")
            user_id = (
                env["res.users"]
                .create(
                    {"name": name, "login": login, "password": PASSWORD, "groups_id": [(6, 0, group.ids)]}
                )
                .id
            )
        rpc = Rpc(world.server.url, world.conf["db"], login, PASSWORD)
        rpc.kw("chatbot.bot", "action_join", [ids.bot_id])
        operators.append(SimpleNamespace(name=name, login=login, user_id=user_id, rpc=rpc))
    with odoo_env(world.reg) as env:
        set_online(env, [o.user_id for o in operators])
        for operator in operators:
            operator.id = (
                env["chatbot.operator"]
                .search([("bot_id", "=", ids.bot_id), ("user_id", "=", operator.user_id)])
                .id
            )
    return SimpleNamespace(
        token=token,
        operators=operators,
        names={o.id: o.name for o in operators},
        started=time.monotonic(),
        **vars(ids),
    )


class Crowd:
    """The customers: each writes through the real webhook, from their own thread, as Telegram would."""

    def __init__(self, world, bot, chats):
        self.world, self.bot, self.chats = world, bot, chats
        self.locks = {chat: threading.Lock() for chat in chats}
        self.talking = set()
        self.refused = []
        self.written = 0
        self.stopping = threading.Event()
        self.threads = []

    def write(self, chat, text):
        user = self.world.fake_module.default_user(chat, first_name="Customer", last_name=str(chat))
        update = self.world.fake.make_message_update(chat, text, user)
        update["update_id"] = next(_update_ids)
        status = post_json(self.bot.webhook, update, self.bot.secret)[0]
        self.written += 1
        if status != 200:
            self.refused.append((chat, text, status))
        return status

    def all_at_once(self, text):
        """Every customer writes `text` at the same moment: one thread per webhook call, released together."""
        barrier = threading.Barrier(len(self.chats))
        statuses = {}

        def one(chat):
            barrier.wait(10)
            statuses[chat] = self.write(chat, text)

        threads = [threading.Thread(target=one, args=(chat,)) for chat in self.chats]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return statuses

    def talk(self):
        """From now on, the customers in `talking` chat all the time (a message every second or two each)."""
        self.talking.update(self.chats)
        for chat in self.chats:
            thread = threading.Thread(target=self._talk, args=(chat,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _talk(self, chat):
        pace = random.Random(chat)
        count = 0
        while not self.stopping.wait(pace.uniform(0.8, 2.4)):
            with self.locks[chat]:
                if chat in self.talking:
                    count += 1
                    self.write(chat, f"Message {count} of {chat}")

    def quiet(self, *chats):
        """These customers stop chatting, and what they wrote is processed: a dialog closed now gets no later
        message (which would rightly open a new dialog with the bot)."""
        for chat in chats:
            with self.locks[chat]:
                self.talking.discard(chat)
        assert wait_until(lambda: not pending_inbound(self.world, self.bot, chats)), (
            f"the messages of {chats} were not processed within {PROMPT} s"
        )

    def resume(self, *chats):
        self.talking.update(chats)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(10)


def wait_until(predicate, timeout=PROMPT, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def pending_inbound(world, bot, chats):
    with world.reg.cursor() as cr:
        cr.execute(
            """SELECT count(*) FROM chatbot_inbound
                WHERE channel_id = %s AND state = 'pending' AND chat_key = ANY(%s)""",
            [bot.channel_id, [str(chat) for chat in chats]],
        )
        return cr.fetchone()[0]


def settled(world, bot):
    """Every update of the bot's channel processed, every message sent."""
    with world.reg.cursor() as cr:
        cr.execute(
            """SELECT (SELECT count(*) FROM chatbot_inbound WHERE channel_id = %(c)s AND state = 'pending')
                    + (SELECT count(*) FROM chatbot_outbound
                        WHERE channel_id = %(c)s AND state IN ('queued', 'sending'))""",
            {"c": bot.channel_id},
        )
        return not cr.fetchone()[0]


def texts(world, bot, chat):
    """What the bot sent to the customer in Telegram, in order."""
    return [m.get("text") or "" for m in world.fake.sent_messages(chat_id=chat, token=bot.token)]


def told_position(got):
    """The place in the queue the customer was told last (None when never)."""
    for text in reversed(got):
        match = QUEUE_TEXT.fullmatch(text)
        if match:
            return int(match.group(1))
    return None


def status_texts(got):
    """What the customer was told of their dialog, in order: G (an operator greets), Q (a place in the queue),
    T (a transfer), E (the end)."""
    kinds = []
    for text in got:
        if text.endswith(CONNECTED):
            kinds.append("G")
        elif QUEUE_TEXT.fullmatch(text):
            kinds.append("Q")
        elif text == TRANSFER_TEXT:
            kinds.append("T")
        elif text == COMPLETED:
            kinds.append("E")
    return "".join(kinds)


def trigger_queue(world):
    with odoo_env(world.reg) as env:
        env.ref(QUEUE_CRON)._trigger()


# ------------------------------------------------------------------------------------------------
# Snapshots of the bot's dialogs and operators, and the invariants
# ------------------------------------------------------------------------------------------------

Dialog = namedtuple("Dialog", "id chat state operator offer place position excluded")


class Snapshot:
    """The open dialogs of the bot and its operators' stored loads, as one transaction saw them."""

    def __init__(self, dialogs, loads):
        self.dialogs, self.loads = dialogs, loads
        self.at = time.monotonic()
        self.by_id = {d.id: d for d in dialogs}
        # the product's order: every waiting dialog (offered ones too), by the time it joined the queue
        self.waiting = sorted((d for d in dialogs if d.state == "waiting"), key=lambda d: d.place)
        # who waits for an operator to be routed to: not offered to anyone now
        self.queue = [d for d in self.waiting if not d.offer]

    @staticmethod
    def taker(dialog):
        """The operator who has the dialog, or to whom it is offered."""
        if dialog is None:
            return None
        return dialog.operator if dialog.state == "active" else dialog.offer

    def current(self, chat):
        mine = [d for d in self.dialogs if d.chat == chat]
        return mine[0] if len(mine) == 1 else None

    def taker_of(self, chat):
        return self.taker(self.current(chat))

    def true_load(self, operator_id):
        return sum(1 for d in self.dialogs if self.taker(d) == operator_id)

    def chats_of(self, operator_id):
        return sorted(d.chat for d in self.dialogs if d.state == "active" and d.operator == operator_id)

    def offers_to(self, operator_id):
        return [d for d in self.waiting if d.offer == operator_id]

    def queue_chats(self):
        return [d.chat for d in self.queue]


def read_snapshot(reg, bot):
    with reg.cursor() as cr:  # one REPEATABLE READ transaction: the two queries see the same state
        cr.execute(
            """SELECT d.id, s.external_id, d.state, d.operator_id, d.offer_operator_id,
                      -- the place in the queue as the product counts it (chatbot_bot._chatbot_tell_positions)
                      row_number() OVER (PARTITION BY d.state = 'waiting' ORDER BY d.queue_date, d.id),
                      COALESCE(d.queue_position, 0),
                      ARRAY(SELECT r.operator_id FROM chatbot_dialog_declined_operator_rel r
                             WHERE r.dialog_id = d.id)
                      || CASE WHEN d.silent_operator_id IS NULL THEN '{}'::int[]
                              ELSE ARRAY[d.silent_operator_id] END
                 FROM chatbot_dialog d JOIN chatbot_sender s ON s.id = d.sender_id
                WHERE d.bot_id = %s AND d.state != 'closed'
                ORDER BY d.id""",
            [bot.bot_id],
        )
        dialogs = [
            Dialog(row[0], int(row[1]), row[2], row[3], row[4], row[5], row[6], frozenset(row[7]))
            for row in cr.fetchall()
        ]
        cr.execute(
            "SELECT id, COALESCE(active_dialog_count, 0) FROM chatbot_operator WHERE bot_id = %s",
            [bot.bot_id],
        )
        return Snapshot(dialogs, dict(cr.fetchall()))


def snapshot_violations(snap, names):
    """What is wrong in one snapshot: (key, message) pairs."""
    found = []
    for operator_id, stored in snap.loads.items():
        name = names.get(operator_id, operator_id)
        true = snap.true_load(operator_id)
        if true > MAX_CHATS:
            found.append(
                (
                    f"(a) {name}",
                    f"{name} has {true} dialogs (active and offered), above the limit {MAX_CHATS}",
                )
            )
        if stored > MAX_CHATS:
            found.append((f"(a) stored {name}", f"{name}'s stored load is {stored}, above {MAX_CHATS}"))
        if stored != true:
            found.append((f"(b) {name}", f"{name}'s stored load is {stored} while the dialogs count {true}"))
    chats = {}
    for dialog in snap.dialogs:
        chats.setdefault(dialog.chat, []).append(dialog.id)
        if dialog.state == "active" and not dialog.operator:
            found.append(
                (
                    f"(c) no operator {dialog.id}",
                    f"dialog {dialog.id} of {dialog.chat} is active without an operator",
                )
            )
        if dialog.state != "active" and dialog.operator:
            found.append(
                (
                    f"(c) operator {dialog.id}",
                    f"dialog {dialog.id} of {dialog.chat} is {dialog.state} and still has operator "
                    f"{names.get(dialog.operator, dialog.operator)}",
                )
            )
        if dialog.offer and (dialog.state != "waiting" or dialog.offer in dialog.excluded):
            found.append(
                (
                    f"(c) offer {dialog.id}",
                    f"dialog {dialog.id} of {dialog.chat} ({dialog.state}) is offered to "
                    f"{names.get(dialog.offer, dialog.offer)} (who let it go before: "
                    f"{dialog.offer in dialog.excluded})",
                )
            )
    for chat, ids in chats.items():
        if len(ids) > 1:
            found.append((f"(c) two open {chat}", f"customer {chat} has {len(ids)} open dialogs: {ids}"))
    return found


def order_violations(before, after, names):
    """First come, first served between two snapshots: a dialog that got an operator (or an offer) meanwhile,
    while one ahead of it in the queue, whom that operator may take, still waits."""
    found = []
    place = {d.id: i for i, d in enumerate(before.queue)}
    served_chats = {d.chat for d in before.dialogs if before.taker(d)}
    still_waiting = {d.id for d in after.queue}
    for dialog in after.dialogs:
        taker = after.taker(dialog)
        if not taker:
            continue
        earlier = before.by_id.get(dialog.id)
        if before.taker(earlier):
            continue  # served already (accepting an offer, or an offer moving on, keeps its place)
        if earlier is None and dialog.chat in served_chats:
            continue  # a transfer: the child dialog of one that had an operator
        ahead = before.queue[: place[dialog.id]] if dialog.id in place else before.queue
        for other in ahead:
            if other.id in still_waiting and taker not in after.by_id[other.id].excluded:
                name = names.get(taker, taker)
                found.append(
                    (
                        f"(d) {dialog.id}",
                        f"customer {dialog.chat} (dialog {dialog.id}, "
                        f"{'in the queue' if dialog.id in place else 'not in the queue'}) got {name} while "
                        f"customer {other.chat} (dialog {other.id}), ahead in the queue, still waited",
                    )
                )
                break
    return found


class Watcher(threading.Thread):
    """Samples the bot's dialogs every 50 ms while things happen and notes every invariant broken."""

    def __init__(self, reg, bot):
        super().__init__(daemon=True)
        self.reg, self.bot = reg, bot
        self.findings = {}
        self.samples = 0
        self.max_load = 0
        self.started = bot.started
        self.stopping = threading.Event()
        self.untold_since = {}
        self.with_bot_since = {}
        self.crash = None

    def note(self, key, message):
        entry = self.findings.setdefault(key, [0, f"{time.monotonic() - self.started:.1f}s: {message}"])
        entry[0] += 1

    def run(self):
        before = None
        try:
            while not self.stopping.wait(0.05):
                try:
                    snap = read_snapshot(self.reg, self.bot)
                except psycopg2.Error as error:
                    self.note("watcher", f"a sample failed: {error}")
                    continue
                self.samples += 1
                self.check(before, snap)
                before = snap
        except BaseException as error:
            self.crash = error  # the test fails with it, not with a silent watcher
            raise

    def check(self, before, snap):
        names = self.bot.names
        self.max_load = max([self.max_load, *(snap.true_load(o) for o in snap.loads)])
        for key, message in snapshot_violations(snap, names):
            self.note(key, message)
        if before is not None:
            for key, message in order_violations(before, snap, names):
                self.note(key, message)
        # (c) a customer in the queue is told their place; nobody stays with the bot after /start
        for since, dialogs, what in (
            (self.untold_since, [d for d in snap.queue if not d.position], "waits in the queue untold"),
            (self.with_bot_since, [d for d in snap.dialogs if d.state == "bot"], "stays with the bot"),
        ):
            ids = {d.id for d in dialogs}
            for gone in set(since) - ids:
                del since[gone]
            for dialog in dialogs:
                first = since.setdefault(dialog.id, snap.at)
                if snap.at - first > UNTOLD_GRACE:
                    self.note(
                        f"(c) {what} {dialog.id}",
                        f"customer {dialog.chat} (dialog {dialog.id}) {what} for more than {UNTOLD_GRACE} s",
                    )

    def stop(self):
        self.stopping.set()
        self.join(10)

    def report(self):
        return [f"{message} (seen in {count} samples)" for count, message in self.findings.values()]


# ------------------------------------------------------------------------------------------------
# Steps
# ------------------------------------------------------------------------------------------------


def wait_snapshot(world, bot, predicate, timeout=PROMPT):
    """The first snapshot where `predicate` holds, or (None, the last one) after `timeout`."""
    last = [None]

    def check():
        last[0] = read_snapshot(world.reg, bot)
        return predicate(last[0])

    ok = wait_until(check, timeout=timeout)
    return (last[0] if ok else None), last[0]


def queue_told(world, bot):
    """Whether every customer in the queue was told their place (the product's: every waiting dialog counts,
    offered ones too): (all agree, [(chat, place, stored, told)])."""
    snap = read_snapshot(world.reg, bot)
    rows = []
    for place, dialog in enumerate(snap.waiting, 1):
        if not dialog.offer:
            rows.append((dialog.chat, place, dialog.position, told_position(texts(world, bot, dialog.chat))))
    return all(place == stored == told for _chat, place, stored, told in rows), rows


def expect_queue_told(world, bot, problems, step):
    agree = wait_until(lambda: queue_told(world, bot)[0])
    log(bot, f"{step}: the queue was told its places" if agree else f"{step}: places NOT told")
    if not agree:
        rows = queue_told(world, bot)[1]
        problems.append(
            f"{step}: the queue's customers were not told their place within {PROMPT} s "
            f"(chat, place, stored position, last told): {rows}"
        )


def expect(world, bot, problems, step, predicate, describe, nudge=True):
    """Wait for `predicate` on the bot's snapshots; when it does not come, note the problem and, to go on from
    the expected state, wake the queue's cron job (as its minute tick, held back here, would), wait again."""
    snap, last = wait_snapshot(world, bot, predicate)
    if snap:
        log(bot, step, snap)
        return snap
    problems.append(f"{step}: {describe(last)}")
    log(bot, f"{step}: NOT AS EXPECTED", last)
    if nudge:
        trigger_queue(world)
        snap, last = wait_snapshot(world, bot, predicate, timeout=30)
        problems[-1] += " (it happened after waking the queue's cron job)" if snap else " (not even then)"
        log(bot, f"{step}: after waking the queue's cron job", last)
    return snap or last


def current_dialog_id(world, bot, chat):
    snap = read_snapshot(world.reg, bot)
    dialog = snap.current(chat)
    assert dialog, f"customer {chat} has one open dialog: {[d for d in snap.dialogs if d.chat == chat]}"
    return dialog.id


def end_dialog(world, bot, crowd, operator, chat):
    """The operator ends the customer's dialog over JSON-RPC, as themselves (the header's End action)."""
    crowd.quiet(chat)
    operator.rpc.kw("chatbot.dialog", "action_end", [current_dialog_id(world, bot, chat)])


def transfer(world, bot, operator, chat, **values):
    """The operator transfers the customer's dialog with the Transfer form, as themselves."""
    wizard = operator.rpc.kw(
        "chatbot.transfer", "create", {"dialog_id": current_dialog_id(world, bot, chat), **values}
    )
    operator.rpc.kw("chatbot.transfer", "action_transfer", [wizard])


def describe_chats(snap, bot, *chats):
    parts = []
    for chat in chats:
        dialog = snap.current(chat)
        if dialog is None:
            parts.append(f"{chat}: no single open dialog")
        else:
            taker = snap.taker(dialog)
            parts.append(
                f"{chat}: {dialog.state}"
                + (
                    f" {'with' if dialog.state == 'active' else 'offered to'} {bot.names.get(taker)}"
                    if taker
                    else ""
                )
            )
    return "; ".join(parts) + f"; queue {snap.queue_chats()}"


def log(bot, step, snap=None):
    """A line of the scenario's timeline (pytest shows it with a failure; `-s` always)."""
    line = f"[{time.monotonic() - bot.started:5.1f}s] {step}"
    if snap is not None:
        line += " | " + " ".join(
            f"{o.name}: {snap.chats_of(o.id)}"
            + (f"+offers {[d.chat for d in snap.offers_to(o.id)]}" if snap.offers_to(o.id) else "")
            for o in bot.operators
        )
        line += f" | queue {[(d.chat, d.position) for d in snap.queue]}"
    print(line)


# ------------------------------------------------------------------------------------------------
# The end: every customer accounted for
# ------------------------------------------------------------------------------------------------


def final_checks(world, bot, crowd, watcher, problems, closed_chats):
    crowd.stop()
    if not wait_until(lambda: settled(world, bot), timeout=60):
        problems.append("the bot's channel did not settle within 60 s (inbound or outbound queue not empty)")
    expect_queue_told(world, bot, problems, "at the end")
    watcher.stop()
    assert watcher.crash is None, f"the watcher stopped: {watcher.crash!r}"
    assert watcher.samples > 20, "the watcher sampled the dialogs all along"
    problems.extend(watcher.report())
    snap = read_snapshot(world.reg, bot)
    log(bot, f"at rest ({watcher.samples} samples, {crowd.written} customer messages)", snap)
    # (b) at rest, each operator's stored load is the true count
    for operator in bot.operators:
        stored, true = snap.loads[operator.id], snap.true_load(operator.id)
        if stored != true:
            problems.append(
                f"at the end, {operator.name}'s stored load is {stored}, the dialogs count {true}"
            )
    # (c) every customer: with an operator, waiting with their place told, or closed; none assigned twice
    ranks = {d.chat: place for place, d in enumerate(snap.waiting, 1)}
    with odoo_env(world.reg, commit=False) as env:
        operator_partners = {o.id: env["res.users"].browse(o.user_id).partner_id.id for o in bot.operators}
        for chat in crowd.chats:
            got = texts(world, bot, chat)
            told = status_texts(got)
            mine = [d for d in snap.dialogs if d.chat == chat]
            if "GG" in told.replace("Q", ""):
                problems.append(f"customer {chat} was greeted twice without a transfer or an end: {got}")
            if len(mine) > 1:
                problems.append(f"customer {chat} has {len(mine)} open dialogs")
                continue
            if not mine:
                if chat not in closed_chats or not told.endswith("E"):
                    problems.append(
                        f"customer {chat} has no open dialog (closed: {chat in closed_chats}): {got}"
                    )
                continue
            dialog = mine[0]
            if chat in closed_chats:
                problems.append(f"customer {chat}, whose dialog was closed, has an open one: {dialog}")
            if dialog.state == "active":
                record = env["chatbot.dialog"].browse(dialog.id)
                members = set(record.discuss_channel_id.channel_member_ids.partner_id.ids)
                operators_in = [o for o, partner in operator_partners.items() if partner in members]
                if operators_in != [dialog.operator]:
                    problems.append(
                        f"customer {chat}'s conversation has {[bot.names[o] for o in operators_in]} "
                        f"while the dialog is {bot.names.get(dialog.operator)}'s"
                    )
                if told[-1:] not in ("G", "T") or "G" not in told:
                    problems.append(
                        f"customer {chat} is with {bot.names.get(dialog.operator)} but was told {got}"
                    )
            elif dialog.state == "waiting" and not dialog.offer:
                if not (ranks[chat] == dialog.position == told_position(got)) or told[-1:] != "Q":
                    problems.append(
                        f"customer {chat} waits at place {ranks[chat]} (stored {dialog.position}, told "
                        f"{told_position(got)}): {got}"
                    )
            else:
                problems.append(f"customer {chat}'s dialog is {dialog.state} (offered: {bool(dialog.offer)})")
        failed = env["chatbot.inbound"].search(
            [("channel_id", "=", bot.channel_id), ("state", "in", ("failed", "ignored"))]
        )
        for row in failed:
            problems.append(
                f"inbound update {row.external_id} of chat {row.chat_key} {row.state}: {row.error}"
            )
        closed = env["chatbot.dialog"].search([("bot_id", "=", bot.bot_id), ("state", "=", "closed")])
        reasons = sorted(set(closed.mapped("close_reason")) - {"operator", "customer", "transfer"})
        if reasons:
            problems.append(f"dialogs closed for reasons nobody gave: {reasons}")
    if crowd.refused:
        problems.append(f"the webhook refused updates: {crowd.refused[:5]}")


# ------------------------------------------------------------------------------------------------
# 1. Dialogs given at once
# ------------------------------------------------------------------------------------------------


def test_routing_invariants_while_customers_and_operators_act_at_once(world, no_queue_tick):
    bot = routing_bot(world, "E2E routing")
    a, b, c = bot.operators
    crowd = Crowd(world, bot, list(range(74001, 74011)))
    watcher = Watcher(world.reg, bot)
    watcher.start()
    problems, closed_chats = [], set()
    started = time.monotonic()
    try:
        # 1. ten customers press Start at the same moment: two each for the three operators, four wait
        assert set(crowd.all_at_once("/start").values()) == {200}
        snap, last = wait_snapshot(world, bot, lambda s: len(s.dialogs) == 10 and len(s.queue) == 4, 60)
        assert snap, (
            f"everyone got an operator or a place in the queue: {describe_chats(last, bot, *crowd.chats)}"
        )
        log(bot, "1. ten customers pressed Start at once", snap)
        assert [len(snap.chats_of(o.id)) for o in bot.operators] == [MAX_CHATS] * 3
        expect_queue_told(world, bot, problems, "1. ten customers at once")
        crowd.talk()

        # 2. A ends a dialog: the first in the queue gets A
        head = snap.queue_chats()[0]
        chat = snap.chats_of(a.id)[0]
        end_dialog(world, bot, crowd, a, chat)
        closed_chats.add(chat)
        snap = expect(
            world,
            bot,
            problems,
            f"2. {a.name} ended {chat}'s dialog",
            lambda s: s.taker_of(head) == a.id,
            lambda s: f"the head of the queue, {head}, did not get {a.name}: {describe_chats(s, bot, head)}",
        )
        expect_queue_told(world, bot, problems, "2. the queue moved")

        # 3. C goes Inactive and ends a dialog; A transfers a dialog to C (an Inactive operator may be
        # chosen): A's freed place goes to the first in the queue
        c.rpc.kw("chatbot.operator", "chatbot_set_my_status", "inactive")
        chat = read_snapshot(world.reg, bot).chats_of(c.id)[0]
        end_dialog(world, bot, crowd, c, chat)
        closed_chats.add(chat)
        snap = expect(
            world,
            bot,
            problems,
            f"3. {c.name} (Inactive) ended {chat}'s dialog",
            lambda s: len(s.chats_of(c.id)) == 1 and len(s.queue) == 3,
            lambda s: f"an Inactive operator's place was refilled: {describe_chats(s, bot)}",
            nudge=False,
        )
        head, moved = snap.queue_chats()[0], snap.chats_of(a.id)[0]
        transfer(world, bot, a, moved, target="operator", operator_id=c.id, note="Over to you")
        snap = expect(
            world,
            bot,
            problems,
            f"3. {a.name} transferred {moved} to {c.name}, which freed a place of {a.name}",
            lambda s: s.taker_of(moved) == c.id and s.taker_of(head) == a.id,
            lambda s: (
                f"expected {moved} with {c.name} and the head of the queue, {head}, with {a.name}; "
                + describe_chats(s, bot, moved, head)
            ),
        )
        if not wait_until(lambda: TRANSFER_TEXT in texts(world, bot, moved)):
            problems.append(f"3. {moved} was not told of the transfer: {texts(world, bot, moved)}")

        # 4. B transfers a dialog to the bot's queue: B's place goes to the first in the queue, the
        # transferred customer waits behind everyone who waited already
        snap = read_snapshot(world.reg, bot)
        head, requeued = snap.queue_chats()[0], snap.chats_of(b.id)[0]
        transfer(world, bot, b, requeued, target="queue", operator_bot_id=bot.bot_id, note="Anyone free?")
        snap = expect(
            world,
            bot,
            problems,
            f"4. {b.name} transferred {requeued} to the bot's queue",
            lambda s: s.taker_of(head) == b.id and s.queue_chats()[-1:] == [requeued],
            lambda s: (
                f"expected the head of the queue, {head}, with {b.name} and {requeued} last in the queue; "
                + describe_chats(s, bot, head, requeued)
            ),
            nudge=False,
        )
        expect_queue_told(world, bot, problems, "4. after a transfer to the queue")

        # 5. a customer ends the consultation themselves and starts again: their operator takes the first in
        # the queue, they go to its end
        snap = read_snapshot(world.reg, bot)
        head = snap.queue_chats()[0] if snap.queue else None
        leaver = next(ch for o in (b, a) for ch in snap.chats_of(o.id) if ch not in (moved, requeued))
        freed = snap.taker_of(leaver)
        crowd.quiet(leaver)
        crowd.write(leaver, "/end")
        crowd.write(leaver, "/start")
        snap = expect(
            world,
            bot,
            problems,
            f"5. {leaver} ended with /end and pressed Start again",
            lambda s: (
                (head is None or s.taker_of(head) == freed)
                and s.current(leaver) is not None
                and s.current(leaver).state in ("waiting", "active")
                and status_texts(texts(world, bot, leaver))[-2:-1] == "E"
            ),
            lambda s: (
                f"expected {head} with {bot.names[freed]} and {leaver} in the queue; "
                + describe_chats(s, bot, head or leaver, leaver)
            ),
        )
        crowd.resume(leaver)
        expect_queue_told(world, bot, problems, "5. after a customer left and came back")

        # 6. C is Active again; the three operators each end a dialog at the same moment: the first three in
        # the queue get them, the others keep their order
        c.rpc.kw("chatbot.operator", "chatbot_set_my_status", "active")
        snap = read_snapshot(world.reg, bot)
        queue_before = snap.queue_chats()
        ending = {o.id: snap.chats_of(o.id)[0] for o in bot.operators}
        crowd.quiet(*ending.values())
        closed_chats.update(ending.values())
        barrier = threading.Barrier(3)
        errors = []

        def end_at_once(operator):
            barrier.wait(10)
            try:
                operator.rpc.kw(
                    "chatbot.dialog", "action_end", [current_dialog_id(world, bot, ending[operator.id])]
                )
            except RpcError as error:
                errors.append(f"{operator.name}: {error}")

        threads = [threading.Thread(target=end_at_once, args=(o,)) for o in bot.operators]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        served = queue_before[:3]
        snap = expect(
            world,
            bot,
            problems,
            "6. three operators ended a dialog each at the same moment",
            lambda s: (
                all(s.taker_of(chat) for chat in served)
                and s.queue_chats() == queue_before[3:]
                and all(s.current(chat) is None for chat in ending.values())
            ),
            lambda s: (
                f"expected {served} served and {queue_before[3:]} still waiting in order; "
                + describe_chats(s, bot, *served, *ending.values())
            ),
        )
        final_checks(world, bot, crowd, watcher, problems, closed_chats)
    finally:
        crowd.stop()
        watcher.stop()
    elapsed = time.monotonic() - started
    assert watcher.max_load <= MAX_CHATS
    assert not problems, f"{len(problems)} problem(s) in {elapsed:.0f} s:\n" + "\n".join(problems)


# ------------------------------------------------------------------------------------------------
# 2. Accept mode
# ------------------------------------------------------------------------------------------------


class Acceptor(threading.Thread):
    """Every operator accepts what is offered to them, in their own browser's place (their own session)."""

    def __init__(self, world, bot, let_run_out=()):
        super().__init__(daemon=True)
        self.world, self.bot = world, bot
        self.let_run_out = set(let_run_out)  # (operator id, chat): offers left to run out
        self.sessions = {
            o.id: Rpc(world.server.url, world.conf["db"], o.login, PASSWORD) for o in bot.operators
        }
        self.accepted = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.3):
            snap = read_snapshot(self.world.reg, self.bot)
            for dialog in snap.waiting:
                if dialog.offer in self.sessions and (dialog.offer, dialog.chat) not in self.let_run_out:
                    try:
                        self.sessions[dialog.offer].kw("chatbot.dialog", "action_accept", [dialog.id])
                        self.accepted.append(dialog.chat)
                    except RpcError:
                        pass  # the offer ran out meanwhile: it went to someone else

    def stop(self):
        self.stopping.set()
        self.join(30)


def first_for(snap, operator_id):
    """The customer the queue gives `operator_id` next: the first who did not let them go before."""
    return next((d.chat for d in snap.queue if operator_id not in d.excluded), None)


def test_routing_invariants_in_accept_mode(world, no_queue_tick):
    timeout = 3
    bot = routing_bot(world, "E2E accept routing", accept_mode=True, accept_timeout=timeout)
    a, b, c = bot.operators
    crowd = Crowd(world, bot, list(range(74101, 74111)))
    watcher = Watcher(world.reg, bot)
    watcher.start()
    acceptor = None
    problems, closed_chats = [], set()
    started = time.monotonic()
    try:
        # 1. ten customers at once: each operator is offered two dialogs (they count in the load), four wait
        assert set(crowd.all_at_once("/start").values()) == {200}
        snap, last = wait_snapshot(
            world,
            bot,
            lambda s: (
                len(s.dialogs) == 10
                and len(s.queue) == 4
                and all(len(s.offers_to(o.id)) == MAX_CHATS for o in bot.operators)
            ),
            60,
        )
        assert snap, f"two offers per operator, four waiting: {describe_chats(last, bot, *crowd.chats)}"
        log(bot, "1. ten customers pressed Start at once", snap)
        offered = [d.chat for d in snap.waiting if d.offer]
        assert not [chat for chat in offered if texts(world, bot, chat)], (
            "nobody is connected before accepting"
        )
        expect_queue_told(world, bot, problems, "1. ten customers at once")
        crowd.talk()

        # 2. A accepts both offers, B accepts one and declines the other, C accepts one and lets the other
        # run out; from then on, operators accept what they are offered
        for dialog in snap.offers_to(a.id):
            a.rpc.kw("chatbot.dialog", "action_accept", [dialog.id])
        kept, expiring = snap.offers_to(c.id)
        c.rpc.kw("chatbot.dialog", "action_accept", [kept.id])
        kept, declined = snap.offers_to(b.id)
        b.rpc.kw("chatbot.dialog", "action_accept", [kept.id])
        before = read_snapshot(world.reg, bot)
        b.rpc.kw("chatbot.dialog", "action_decline", [declined.id])
        acceptor = Acceptor(world, bot, let_run_out=[(c.id, expiring.chat)])
        acceptor.start()
        head = first_for(before, b.id)
        expect(
            world,
            bot,
            problems,
            f"2. {b.name} declined {declined.chat}",
            lambda s: s.taker_of(head) == b.id and s.taker_of(declined.chat) != b.id,
            lambda s: (
                f"expected the first in the queue for {b.name}, {head}, offered to them; "
                + describe_chats(s, bot, head, declined.chat)
            ),
        )
        # the offer to C runs out: C's place goes to the first in the queue (who did not let C go), and the
        # customer whose offer ran out waits in the queue, told their place, until someone frees up
        expect(
            world,
            bot,
            problems,
            f"2. {c.name} let the offer of {expiring.chat} run out ({timeout} s)",
            lambda s: (
                s.current(expiring.chat) is not None
                and c.id in s.current(expiring.chat).excluded
                and len(s.chats_of(c.id)) == MAX_CHATS
                and all(len(s.chats_of(o.id)) == MAX_CHATS for o in bot.operators)
            ),
            lambda s: (
                f"expected {expiring.chat} back in the queue and every operator with two customers: "
                + describe_chats(s, bot, expiring.chat, declined.chat)
            ),
        )
        expect_queue_told(world, bot, problems, "2. after a decline and an offer that ran out")

        # 3. A, then B end a dialog: the queue moves, in order
        for operator in (a, b):
            snap = expect(
                world,
                bot,
                problems,
                f"3. before {operator.name} ends a dialog",
                lambda s: not [d for d in s.waiting if d.offer],
                lambda s: "offers were not accepted: " + describe_chats(s, bot, *[d.chat for d in s.waiting]),
                nudge=False,
            )
            head = first_for(snap, operator.id)
            chat = snap.chats_of(operator.id)[0]
            end_dialog(world, bot, crowd, operator, chat)
            closed_chats.add(chat)
            expect(
                world,
                bot,
                problems,
                f"3. {operator.name} ended {chat}'s dialog",
                lambda s, operator=operator, head=head: head is None or s.taker_of(head) == operator.id,
                lambda s, operator=operator, head=head: (
                    f"the first in the queue for {operator.name}, {head}, "
                    "did not get them: " + describe_chats(s, bot, head)
                ),
            )
        snap = expect(
            world,
            bot,
            problems,
            "4. at rest",
            lambda s: not [d for d in s.waiting if d.offer],
            lambda s: "offers left: " + describe_chats(s, bot, *[d.chat for d in s.waiting]),
            nudge=False,
        )
        acceptor.stop()
        final_checks(world, bot, crowd, watcher, problems, closed_chats)
    finally:
        if acceptor:
            acceptor.stop()
        crowd.stop()
        watcher.stop()
    elapsed = time.monotonic() - started
    assert watcher.max_load <= MAX_CHATS
    assert not problems, f"{len(problems)} problem(s) in {elapsed:.0f} s:\n" + "\n".join(problems)
