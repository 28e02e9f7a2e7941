"""The fake Telegram server: getUpdates and the update builders."""

import threading
import time

import pytest
import requests
from fake_telegram_helpers import (
    FORUM,
    SUPERGROUP,
    TOKEN,
    api,
    fixture_http,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    ft,
    ok,
)

# ------------------------------------------------------------------------------------------------------------
# getUpdates
# ------------------------------------------------------------------------------------------------------------


def test_get_updates_offset_confirms(server, http):
    ids = [server.push_message(TOKEN, 42, text)["update_id"] for text in ("a", "b", "c")]
    assert ids == [1, 2, 3]
    assert [u["update_id"] for u in ok(http, server, "getUpdates")] == [1, 2, 3]
    assert [u["update_id"] for u in ok(http, server, "getUpdates", limit=2)] == [1, 2]
    assert [u["update_id"] for u in ok(http, server, "getUpdates", offset=2)] == [2, 3]
    assert [u["update_id"] for u in ok(http, server, "getUpdates")] == [
        2,
        3,
    ]  # 1 was confirmed
    assert ok(http, server, "getUpdates", offset=4) == []
    assert server.pending_updates(TOKEN) == []
    assert server.push_message(TOKEN, 42, "d")["update_id"] == 4


def test_get_updates_negative_offset(server, http):
    for text in "abcd":
        server.push_message(TOKEN, 1, text)
    assert [u["message"]["text"] for u in ok(http, server, "getUpdates", offset=-2)] == ["c", "d"]
    assert [u["message"]["text"] for u in ok(http, server, "getUpdates")] == ["c", "d"]


def test_push_update_ids(server):
    assert server.push_update(TOKEN, {"update_id": 100, "message": {"text": "x"}})["update_id"] == 100
    pushed = server.push_update(TOKEN, {"message": {"text": "y"}})
    assert pushed["update_id"] == 101
    assert list(pushed) == ["update_id", "message"]
    with pytest.raises(KeyError):
        server.push_update("1:unknown", {"message": {}})


def test_long_poll_returns_when_an_update_arrives(server, http):
    threading.Timer(0.3, lambda: server.push_message(TOKEN, 42, "wake up")).start()
    started = time.monotonic()
    updates = ok(http, server, "getUpdates", timeout=5)
    elapsed = time.monotonic() - started
    assert [u["message"]["text"] for u in updates] == ["wake up"]
    assert 0.25 <= elapsed < 2


def test_long_poll_waits_for_the_timeout(server, http):
    started = time.monotonic()
    assert ok(http, server, "getUpdates", timeout=1) == []
    assert 0.95 <= time.monotonic() - started < 2.5
    started = time.monotonic()
    assert ok(http, server, "getUpdates", timeout=0) == []
    assert time.monotonic() - started < 0.5


def test_second_long_poll_terminates_the_first(server, http):
    result = {}
    poller = threading.Thread(target=lambda: result.update(reply=api(http, server, "getUpdates", timeout=5)))
    poller.start()
    time.sleep(0.3)
    with requests.Session() as other:
        other.trust_env = False
        assert (
            other.post(f"{server.base_url}/bot{TOKEN}/getUpdates", json={}, timeout=5).json()["result"] == []
        )
    poller.join(3)
    assert result["reply"] == (
        409,
        {
            "ok": False,
            "error_code": 409,
            "description": (
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            ),
        },
    )


def test_allowed_updates_filter_new_updates(server, http):
    assert server.push_update(TOKEN, {"chat_member": {}}) is None  # off by default, like Telegram
    ok(http, server, "getUpdates", allowed_updates=["callback_query"])
    assert server.push_message(TOKEN, 42, "ignored") is None
    pushed = server.push_update(TOKEN, ft.make_callback_update(42, "x", 1))
    assert [u["update_id"] for u in ok(http, server, "getUpdates")] == [pushed["update_id"]]


# ------------------------------------------------------------------------------------------------------------
# update builders
# ------------------------------------------------------------------------------------------------------------


def test_make_message_update_shape():
    update = ft.make_message_update(42, "/start promo", message_id=9, is_topic_message=False)
    message = update["message"]
    assert list(update) == ["message"]
    assert message["message_id"] == 9 and message["text"] == "/start promo"
    assert message["from"] == {
        "id": 42,
        "is_bot": False,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "username": "ada_42",
        "language_code": "en",
    }
    assert message["chat"] == {
        "id": 42,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "username": "ada_42",
        "type": "private",
    }
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["is_topic_message"] is False
    group = ft.make_message_update(SUPERGROUP, "hi", user=ft.default_user(7, first_name="Op"))["message"]
    assert (
        group["chat"]["type"] == "supergroup"
        and group["from"]["id"] == 7
        and group["from"]["first_name"] == "Op"
    )


def test_make_callback_and_member_and_contact_updates():
    callback = ft.make_callback_update(42, "pick:1", 5)["callback_query"]
    assert (
        callback["data"],
        callback["message"]["message_id"],
        callback["from"]["id"],
    ) == ("pick:1", 5, 42)
    assert isinstance(callback["id"], str) and isinstance(callback["chat_instance"], str)
    kicked = ft.make_my_chat_member_update(42, "kicked")["my_chat_member"]
    assert (
        kicked["old_chat_member"]["status"],
        kicked["new_chat_member"]["status"],
    ) == ("member", "kicked")
    assert kicked["new_chat_member"]["user"]["is_bot"] is True and kicked["chat"]["type"] == "private"
    member = ft.make_my_chat_member_update(42, "member")["my_chat_member"]
    assert (
        member["old_chat_member"]["status"],
        member["new_chat_member"]["status"],
    ) == ("kicked", "member")
    contact = ft.make_contact_update(42, "33612345678")["message"]["contact"]
    assert contact == {
        "phone_number": "33612345678",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "user_id": 42,
    }


def test_server_builders_use_the_servers_ids_and_chats(server, http):
    server.add_chat(FORUM, type="supergroup", is_forum=True, title="Ops")
    ok(http, server, "sendMessage", chat_id=FORUM, text="bot first")
    update = server.make_message_update(FORUM, "operator", message_thread_id=1, is_topic_message=True)
    assert update["message"]["message_id"] == 2
    assert update["message"]["chat"] == {
        "id": FORUM,
        "title": "Ops",
        "type": "supergroup",
        "is_forum": True,
    }
    assert ok(http, server, "sendMessage", chat_id=FORUM, text="bot again")["message_id"] == 3
    member = server.make_my_chat_member_update(42, "kicked")["my_chat_member"]
    assert member["new_chat_member"]["user"]["username"] == "demo_bot"
    contact = server.make_contact_update(42, "+33600000000")
    assert (
        contact["message"]["message_id"] == 1
        and server.get_message(42, 1)["contact"]["phone_number"] == "+33600000000"
    )
