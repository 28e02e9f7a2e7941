"""Tests of the fake Telegram Bot API server (``chatbot_telegram/tests/fake_telegram/``): envelopes,
auth, routing, encodings; recording, concurrency, control endpoints, the command line.

Run from the repository root: ``python -m pytest -q tests/test_fake_telegram*.py -p no:cacheprovider``.
The other topics are in ``tests/test_fake_telegram_*.py``, the helpers in ``fake_telegram_helpers.py``.
"""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from fake_telegram_helpers import (
    PACKAGE_PATH,
    TOKEN,
    TOKEN2,
    api,
    fixture_http,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    free_port,
    ok,
    refused,
)

# ------------------------------------------------------------------------------------------------------------
# basics: envelopes, auth, routing, encodings
# ------------------------------------------------------------------------------------------------------------


def test_get_me(server, http):
    assert ok(http, server, "getMe") == {
        "id": 123456,
        "is_bot": True,
        "first_name": "Demo",
        "username": "demo_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def test_several_bots_have_their_own_identity(server, http):
    server.add_bot(TOKEN2, username="other_bot", first_name="Other")
    assert ok(http, server, "getMe", TOKEN2)["username"] == "other_bot"
    assert ok(http, server, "getMe", TOKEN2)["id"] == 654321
    assert ok(http, server, "getMe")["id"] == 123456


def test_unknown_token_is_401(server, http):
    status, body = api(http, server, "getMe", token="999:nope")
    assert (status, body) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert server.calls[-1].status == 401


def test_unknown_method_is_404(server, http):
    status, body = api(http, server, "sendTelepathy", chat_id=1)
    assert (status, body) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert http.get(f"{server.base_url}/nothing", timeout=5).status_code == 404


def test_add_bot_rejects_malformed_token(server):
    with pytest.raises(ValueError):
        server.add_bot("not-a-token")


def test_method_names_are_case_insensitive_and_get_works(server, http):
    response = http.get(
        f"{server.base_url}/bot{TOKEN}/SENDMESSAGE",
        params={"chat_id": "5", "text": "hi"},
        timeout=5,
    )
    assert response.status_code == 200
    call = server.calls[-1]
    assert (call.method, call.http_method, call.params) == (
        "sendMessage",
        "GET",
        {"chat_id": 5, "text": "hi"},
    )


def test_form_urlencoded_decodes_json_fields(server, http):
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    response = http.post(
        f"{server.base_url}/bot{TOKEN}/sendMessage",
        data={
            "chat_id": "42",
            "text": "Q?",
            "reply_markup": json.dumps(markup),
            "disable_notification": "true",
        },
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["result"]["reply_markup"] == markup
    params = server.calls[-1].params
    assert params == {
        "chat_id": 42,
        "text": "Q?",
        "reply_markup": markup,
        "disable_notification": True,
    }


def test_json_reply_markup_given_as_string_is_decoded(server, http):
    markup = {"inline_keyboard": [[{"text": "A", "url": "https://example.com"}]]}
    assert (
        ok(
            http,
            server,
            "sendMessage",
            chat_id=1,
            text="x",
            reply_markup=json.dumps(markup),
        )["reply_markup"]
        == markup
    )


# ------------------------------------------------------------------------------------------------------------
# recording, concurrency, control endpoints, CLI
# ------------------------------------------------------------------------------------------------------------


def test_calls_are_recorded_and_filterable(server, http):
    ok(http, server, "sendMessage", chat_id=1, text="a")
    ok(http, server, "sendMessage", chat_id="2", text="b")
    ok(http, server, "getMe")
    before = time.time()
    refused(http, server, "sendMessage", chat_id=1)
    assert [c.params["text"] for c in server.calls_for("sendMessage", chat_id=1) if c.ok] == ["a"]
    assert [c.params["text"] for c in server.calls_for("SENDMESSAGE", chat_id="2")] == ["b"]
    last = server.calls_for("sendMessage")[-1]
    assert (last["token"], last["method"], last["status"], last.params) == (
        TOKEN,
        "sendMessage",
        400,
        {"chat_id": 1},
    )
    assert last.description == "Bad Request: message text is empty" and last.time >= before - 1
    assert last.as_dict()["response"]["error_code"] == 400
    assert server.calls_for("sendMessage", token=TOKEN2) == []
    server.reset()
    assert server.calls == [] and server.sent_messages() == []
    assert ok(http, server, "sendMessage", chat_id=1, text="c")["message_id"] == 2  # known messages stay


def test_concurrent_sends_are_all_recorded(server, http):
    server.configure(rate_limits=False)
    results = []
    lock = threading.Lock()

    def worker():
        with requests.Session() as session:
            session.trust_env = False
            for _ in range(10):
                reply = session.post(
                    f"{server.base_url}/bot{TOKEN}/sendMessage",
                    json={"chat_id": 77, "text": "x"},
                    timeout=10,
                )
                with lock:
                    results.append(reply.json()["result"]["message_id"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == list(range(1, 81))
    assert len(server.calls_for("sendMessage", chat_id=77)) == 80
    assert sorted(m["message_id"] for m in server.sent_messages(chat_id=77)) == list(range(1, 81))


def test_control_endpoints(server, http):
    base = f"{server.base_url}/_fake"
    pushed = http.post(
        f"{base}/bot{TOKEN}/pushMessage", json={"chat_id": 42, "text": "hi"}, timeout=5
    ).json()["result"]
    assert pushed["message"]["text"] == "hi"
    assert ok(http, server, "getUpdates") == [pushed]
    raw = {
        "message": {
            "message_id": 50,
            "chat": {"id": 9, "type": "private"},
            "text": "raw",
        }
    }
    assert http.post(f"{base}/bot{TOKEN}/pushUpdate", json=raw, timeout=5).json()["result"]["update_id"] == 2
    ok(http, server, "sendMessage", chat_id=42, text="reply")
    assert [
        m["text"] for m in http.get(f"{base}/sent", params={"chat_id": 42}, timeout=5).json()["result"]
    ] == ["reply"]
    assert [c["method"] for c in http.get(f"{base}/calls", timeout=5).json()["result"]] == [
        "getUpdates",
        "sendMessage",
    ]
    assert http.post(f"{base}/reset", timeout=5).json() == {"ok": True, "result": True}
    assert server.calls == []


def test_command_line_server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(PACKAGE_PATH), "--port", str(port), "--global-rate", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url == f"http://127.0.0.1:{port}"
        with requests.Session() as http:
            http.trust_env = False
            me = http.post(f"{base_url}/bot{TOKEN}/getMe", timeout=5).json()  # any token is accepted
            assert me["ok"] is True and me["result"]["id"] == 123456
            http.post(
                f"{base_url}/_fake/bot{TOKEN}/pushMessage",
                json={"chat_id": 1, "text": "hey"},
                timeout=5,
            )
            updates = http.post(f"{base_url}/bot{TOKEN}/getUpdates", timeout=5).json()["result"]
            assert [u["message"]["text"] for u in updates] == ["hey"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
        process.stdout.close()
        process.stderr.close()
