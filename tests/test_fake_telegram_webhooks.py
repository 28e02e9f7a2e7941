"""The fake Telegram server: webhooks."""

import json
import threading
import time

import requests
from fake_telegram_helpers import (
    TOKEN,
    api,
    fixture_http,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_webhook_factory,  # noqa: F401 (a fixture: the tests request it by name)
    free_port,
    ok,
    refused,
)

# ------------------------------------------------------------------------------------------------------------
# webhooks
# ------------------------------------------------------------------------------------------------------------


def test_set_webhook_validation_and_info(server, http, webhook_factory):
    hook = webhook_factory()
    for secret, description in [
        ("has space", "Bad Request: secret token contains unallowed characters"),
        ("é", "Bad Request: secret token contains unallowed characters"),
        ("a" * 257, "Bad Request: secret token is too long"),
    ]:
        assert (
            refused(http, server, "setWebhook", url=hook.url, secret_token=secret)[1]["description"]
            == description
        )
    assert (
        refused(http, server, "setWebhook", url="ftp://x")[1]["description"]
        == "Bad Request: invalid webhook URL specified"
    )
    status, body = api(
        http,
        server,
        "setWebhook",
        url=hook.url,
        secret_token="a" * 256,
        allowed_updates=["message"],
    )
    assert (status, body) == (
        200,
        {"ok": True, "result": True, "description": "Webhook was set"},
    )
    status, body = api(http, server, "setWebhook", url=hook.url, secret_token="a" * 256)
    assert body["description"] == "Webhook is already set"
    assert ok(http, server, "getWebhookInfo") == {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "ip_address": "127.0.0.1",
        "max_connections": 40,
        "allowed_updates": ["message"],
    }
    for given, expected in [(0, 1), (500, 100), (7, 7)]:
        ok(http, server, "setWebhook", url=hook.url, max_connections=given)
        assert ok(http, server, "getWebhookInfo")["max_connections"] == expected
    server.configure(require_https=True)
    body = refused(http, server, "setWebhook", url=hook.url)[1]
    assert body["description"] == "Bad Request: bad webhook: HTTPS url must be provided for webhook"


def test_webhook_delivery_with_secret_header(server, http, webhook_factory):
    hook = webhook_factory()
    ok(http, server, "setWebhook", url=hook.url, secret_token="s3cr3t_-X")
    pushed = server.push_message(TOKEN, 42, "hello bot")
    assert server.wait_until(lambda: len(server.deliveries) == 1)
    hit = hook.hits[0]
    assert hit["update"] == pushed
    assert hit["path"] == "/hook"
    assert hit["headers"]["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t_-X"
    assert hit["headers"]["Content-Type"] == "application/json"
    delivery = server.deliveries[0]
    assert (delivery.update_id, delivery.status, delivery.error, delivery.attempt) == (
        pushed["update_id"],
        200,
        None,
        1,
    )
    assert delivery["ok"] is True
    assert ok(http, server, "getWebhookInfo")["pending_update_count"] == 0


def test_webhook_without_secret_sends_no_header(server, http, webhook_factory):
    hook = webhook_factory()
    ok(http, server, "setWebhook", url=hook.url)
    server.push_message(TOKEN, 42, "x")
    assert server.wait_until(lambda: len(server.deliveries) == 1)
    assert "X-Telegram-Bot-Api-Secret-Token" not in hook.hits[0]["headers"]


def test_webhook_resends_after_500_then_success(server, http, webhook_factory):
    hook = webhook_factory(lambda update, attempt: 500 if attempt == 1 else 200)
    ok(http, server, "setWebhook", url=hook.url, secret_token="abc")
    pushed = server.push_message(TOKEN, 42, "retry me")
    assert server.wait_until(lambda: len(server.deliveries) == 2)
    assert [(d.update_id, d.status, d.attempt) for d in server.deliveries] == [
        (pushed["update_id"], 500, 1),
        (pushed["update_id"], 200, 2),
    ]
    assert server.deliveries[0].error == "Wrong response from the webhook: 500 Internal Server Error"
    assert [h["update"] for h in hook.hits] == [pushed, pushed]
    assert all(h["headers"]["X-Telegram-Bot-Api-Secret-Token"] == "abc" for h in hook.hits)
    info = ok(http, server, "getWebhookInfo")
    assert info["pending_update_count"] == 0
    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    assert abs(info["last_error_date"] - time.time()) < 5


def test_webhook_pending_count_while_failing(server, http, webhook_factory):
    server.configure(retry_delay=0.3, max_delivery_attempts=2)
    hook = webhook_factory(lambda update, attempt: 503)
    ok(http, server, "setWebhook", url=hook.url)
    server.push_message(TOKEN, 42, "a")
    assert server.wait_until(lambda: len(server.deliveries) == 1)
    info = ok(http, server, "getWebhookInfo")
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Wrong response from the webhook: 503 Service Unavailable"
    assert server.wait_until(lambda: len(server.deliveries) == 2)
    assert server.deliveries[-1].gave_up is True
    assert ok(http, server, "getWebhookInfo")["pending_update_count"] == 0


def test_webhook_updates_of_one_chat_are_strictly_ordered(server, http, webhook_factory):
    def responder(update, attempt):
        if update["message"]["text"] == "A" and attempt == 1:
            return 500, 0.1, b""
        return 200

    hook = webhook_factory(responder)
    ok(http, server, "setWebhook", url=hook.url)
    server.push_message(TOKEN, 1, "A")
    server.push_message(TOKEN, 1, "B")
    server.push_message(TOKEN, 2, "C")
    assert server.wait_idle(TOKEN)
    texts = hook.texts()
    assert [t for t in texts if t[0] in "AB"] == [("A", 1), ("A", 2), ("B", 1)]
    assert texts.index(("C", 1)) < texts.index(("B", 1))  # another chat is not held up
    hits = {(h["update"]["message"]["text"], h["attempt"]): h for h in hook.hits}
    assert hits[("B", 1)]["received"] >= hits[("A", 2)]["answered"]


def test_webhook_slow_answer_holds_the_chat_but_not_others(server, http, webhook_factory):
    hook = webhook_factory(
        lambda update, attempt: (200, 0.3, b"") if update["message"]["text"] == "slow" else 200
    )
    ok(http, server, "setWebhook", url=hook.url)
    server.push_message(TOKEN, 1, "slow")
    server.push_message(TOKEN, 1, "next")
    server.push_message(TOKEN, 2, "other")
    assert server.wait_idle(TOKEN)
    hits = {h["update"]["message"]["text"]: h for h in hook.hits}
    assert hits["next"]["received"] >= hits["slow"]["answered"]
    assert hits["other"]["received"] < hits["slow"]["answered"]


def test_webhook_gives_up_after_max_attempts_then_delivers_the_next(server, http, webhook_factory):
    hook = webhook_factory(lambda update, attempt: 500 if update["message"]["text"] == "poison" else 200)
    ok(http, server, "setWebhook", url=hook.url)
    poison = server.push_message(TOKEN, 1, "poison")
    after = server.push_message(TOKEN, 1, "after")
    assert server.wait_until(lambda: len(server.deliveries) == 4)
    summary = [(d.update_id, d.status, d.attempt, d.gave_up) for d in server.deliveries]
    assert summary == [
        (poison["update_id"], 500, 1, False),
        (poison["update_id"], 500, 2, False),
        (poison["update_id"], 500, 3, True),
        (after["update_id"], 200, 1, False),
    ]


def test_webhook_connection_refused(server, http):
    server.configure(max_delivery_attempts=2)
    url = f"http://127.0.0.1:{free_port()}/hook"
    ok(http, server, "setWebhook", url=url)
    pushed = server.push_message(TOKEN, 42, "nobody home")
    assert server.wait_until(lambda: len(server.deliveries) == 2)
    assert [(d.update_id, d.status, d.error) for d in server.deliveries] == [
        (pushed["update_id"], None, "Connection refused"),
        (pushed["update_id"], None, "Connection refused"),
    ]
    info = ok(http, server, "getWebhookInfo")
    assert (info["last_error_message"], info["pending_update_count"]) == (
        "Connection refused",
        0,
    )


def test_webhook_timeout_is_retried(server, http, webhook_factory):
    server.configure(delivery_timeout=0.2)
    hook = webhook_factory(lambda update, attempt: (200, 0.6, b"") if attempt == 1 else 200)
    ok(http, server, "setWebhook", url=hook.url)
    server.push_message(TOKEN, 42, "slow")
    assert server.wait_until(lambda: len(server.deliveries) == 2)
    assert [(d.status, d.error) for d in server.deliveries] == [
        (None, "Read timeout expired"),
        (200, None),
    ]
    assert server.deliveries[0].duration < 0.5


def test_webhook_answer_can_carry_a_method(server, http, webhook_factory):
    reply = json.dumps({"method": "sendMessage", "chat_id": 42, "text": "pong"}).encode()
    hook = webhook_factory(lambda update, attempt: (200, 0, reply))
    ok(http, server, "setWebhook", url=hook.url)
    server.push_message(TOKEN, 42, "ping")
    calls = server.wait_for_calls("sendMessage")
    assert [(c.source, c.status, c.params) for c in calls] == [
        ("webhook_response", 200, {"chat_id": 42, "text": "pong"})
    ]
    assert server.sent_messages(chat_id=42)[0]["text"] == "pong"


def test_set_webhook_delivers_queued_updates_in_order(server, http, webhook_factory):
    first = server.push_message(TOKEN, 1, "one")
    second = server.push_message(TOKEN, 1, "two")
    hook = webhook_factory()
    ok(http, server, "setWebhook", url=hook.url)
    assert server.wait_idle(TOKEN)
    assert [h["update"] for h in hook.hits] == [first, second]


def test_drop_pending_updates(server, http, webhook_factory):
    server.push_message(TOKEN, 1, "stale")
    hook = webhook_factory()
    ok(http, server, "deleteWebhook", drop_pending_updates=True)
    assert server.pending_updates(TOKEN) == []
    server.push_message(TOKEN, 1, "stale again")
    ok(http, server, "setWebhook", url=hook.url, drop_pending_updates=True)
    time.sleep(0.1)
    assert hook.hits == [] and server.deliveries == []


def test_get_updates_conflicts_while_a_webhook_is_set(server, http, webhook_factory):
    hook = webhook_factory()
    ok(http, server, "setWebhook", url=hook.url)
    assert refused(http, server, "getUpdates") == (
        409,
        {
            "ok": False,
            "error_code": 409,
            "description": (
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            ),
        },
    )
    assert api(http, server, "deleteWebhook")[1] == {
        "ok": True,
        "result": True,
        "description": "Webhook was deleted",
    }
    assert api(http, server, "deleteWebhook")[1]["description"] == "Webhook is already deleted"
    assert ok(http, server, "getUpdates") == []
    assert ok(http, server, "getWebhookInfo") == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }


def test_setting_a_webhook_ends_a_long_poll(server, http, webhook_factory):
    hook = webhook_factory()
    result = {}
    poller = threading.Thread(target=lambda: result.update(reply=api(http, server, "getUpdates", timeout=5)))
    poller.start()
    time.sleep(0.3)
    with requests.Session() as other:
        other.trust_env = False
        assert other.post(
            f"{server.base_url}/bot{TOKEN}/setWebhook",
            json={"url": hook.url},
            timeout=5,
        ).ok
    poller.join(3)
    assert result["reply"] == (
        409,
        {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: terminated by setWebhook request",
        },
    )
