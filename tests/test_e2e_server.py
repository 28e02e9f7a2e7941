"""End-to-end: a real Odoo server with two HTTP workers and a cron worker, driven over HTTP and JSON-RPC."""

import threading
import time

import pytest
from harness import Rpc, RpcError, odoo_env

pytestmark = pytest.mark.e2e


FIGURES = ["name", "bot_type", "operator_count", "dialog_count", "channel_count", "sender_count"]


def test_kanban_figures_and_roles_through_the_web_client(odoo_server, odoo_settings):
    url, db = odoo_server["url"], odoo_settings["db"]
    manager = Rpc(url, db, "bots_manager", "bots_manager")
    cards = manager.kw("chatbot.bot", "web_search_read", [], {f: {} for f in FIGURES})["records"]
    by_name = {card["name"]: card for card in cards}
    assert by_name["Consultations"]["operator_count"] == 2
    kyiv = by_name["Kyiv shop assistant"]
    assert (kyiv["dialog_count"], kyiv["channel_count"], kyiv["sender_count"]) == (2, 1, 2)

    # The User role (seed §1.1.1): sees the bots and their dialogs, cannot change a bot or see its settings.
    operator = Rpc(url, db, "bots_operator", "bots_operator")
    bot_id = by_name["Kyiv shop assistant"]["id"]
    action = operator.kw("chatbot.bot", "action_open_bot", [bot_id])
    assert action["res_model"] == "chatbot.dialog"
    dialogs = operator.kw(
        "chatbot.dialog", "search_read", [["bot_id", "=", bot_id]], fields=["code", "state"]
    )
    assert len(dialogs) == 2
    with pytest.raises(RpcError) as error:
        operator.kw("chatbot.bot", "write", [bot_id], {"name": "Renamed"})
    assert error.value.name == "odoo.exceptions.AccessError"
    with pytest.raises(RpcError) as error:
        operator.kw("chatbot.bot", "read", [bot_id], ["default_country_id"])
    assert error.value.name == "odoo.exceptions.AccessError"
    with pytest.raises(RpcError):
        manager.kw("chatbot.bot", "read", [bot_id], ["default_country_id"])
    admin = Rpc(url, db, "admin", "admin")
    assert admin.kw("chatbot.bot", "read", [bot_id], ["default_country_id"])[0]["default_country_id"] is False


def test_bad_login_is_refused(odoo_server, odoo_settings):
    with pytest.raises(RpcError) as error:
        Rpc(odoo_server["url"], odoo_settings["db"], "bots_manager", "wrong password")
    assert "AccessDenied" in error.value.name


def test_the_websocket_server_runs(odoo_server):
    """In prefork mode the bus (live chat windows popping up for operators) goes through Odoo's gevent
    process: it must start and stay up, not die at import and be started again in a loop."""
    import websocket

    deadline = time.time() + 30
    while True:
        try:
            connection = websocket.create_connection(odoo_server["websocket_url"], timeout=5)
            break
        except (OSError, websocket.WebSocketException):
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    try:
        assert connection.connected
        connection.send('{"event_name": "subscribe", "data": {"channels": [], "last": 0}}')
    finally:
        connection.close()
    with open(odoo_server["out"], encoding="utf-8") as out:
        assert "Traceback" not in out.read()


def test_outbound_message_is_handled_by_the_cron_worker_after_commit(odoo_server, odoo_registry):
    """A message queued in one transaction is picked up by the server's cron worker once it commits.

    The demo Telegram channel is not connected, so the worker must end the message as failed with that
    reason, visible on the dialog, and never leave it queued."""
    with odoo_env(odoo_registry) as env:
        dialog = env.ref("chatbot_telegram.demo_dialog_olena")
        message = dialog._chatbot_send("Your kettle is in stock.")
        message_id = message.id
        assert message.delivery_state == "queued"
    deadline = time.time() + 60
    state = None
    while time.time() < deadline:
        with odoo_env(odoo_registry) as env:
            message = env["chatbot.dialog.message"].browse(message_id)
            state, error = message.delivery_state, message.delivery_error
            dialog_failed = message.dialog_id.failed_message_count
        if state != "queued" and state != "sending":
            break
        time.sleep(0.5)
    assert state == "failed", f"still {state} after 60 s: the cron worker did not run the queue"
    assert "is not connected" in error
    assert dialog_failed >= 1


def test_two_workers_never_claim_the_same_update(odoo_registry):
    """Two transactions claiming the inbound queue at once get disjoint rows (FOR UPDATE SKIP LOCKED)."""
    with odoo_env(odoo_registry) as env:
        channel = env.ref("chatbot_telegram.demo_channel_kyiv")
        channel_id = channel.id
        env.cr.execute(
            "UPDATE ir_cron SET active = false WHERE id = %s",
            [env.ref("chatbot_base.ir_cron_chatbot_inbound_process").id],
        )
        base = int(time.time() * 1000)
        for i in range(20):
            channel._chatbot_store_inbound({"update_id": base + i, "message": {"chat": {"id": 900000 + i}}})
    claimed, barrier = {}, threading.Barrier(2)

    def claim(name):
        with odoo_env(odoo_registry, commit=False) as env:
            barrier.wait()
            rows = env["chatbot.inbound"]._claim(15)
            claimed[name] = set(rows.filtered(lambda r: r.channel_id.id == channel_id).ids)
            time.sleep(0.5)  # hold the locks while the other worker claims

    try:
        threads = [threading.Thread(target=claim, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not claimed["a"] & claimed["b"]
        assert len(claimed["a"] | claimed["b"]) == 20
    finally:
        with odoo_env(odoo_registry) as env:
            env["chatbot.inbound"].search([("channel_id", "=", channel_id)]).unlink()
            env.cr.execute(
                "UPDATE ir_cron SET active = true WHERE id = %s",
                [env.ref("chatbot_base.ir_cron_chatbot_inbound_process").id],
            )


def test_the_same_update_stored_by_two_workers_at_once_is_stored_once(odoo_registry):
    """Telegram resends an update while the first delivery is still being stored by another worker.

    Under Odoo's REPEATABLE READ the loser of the race gets a serialization failure, which Odoo's request
    handling replays (`retrying`); the replay finds the stored row and stores nothing."""
    from odoo.service.model import retrying

    results, barrier = [], threading.Barrier(2)
    update = {"update_id": int(time.time() * 1000) + 777, "message": {"chat": {"id": 42}}}

    def store():
        with odoo_env(odoo_registry) as env:
            env.cr.execute("SELECT 1 FROM ir_cron LIMIT 1")  # take the snapshot before the race
            barrier.wait()

            def work():
                return env.ref("chatbot_telegram.demo_channel_kyiv")._chatbot_store_inbound(update)

            results.append(retrying(work, env))

    threads = [threading.Thread(target=store) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert len(results) == 2 and results.count(None) == 1, results
    finally:
        with odoo_env(odoo_registry) as env:
            env["chatbot.inbound"].search([("external_id", "=", str(update["update_id"]))]).unlink()
