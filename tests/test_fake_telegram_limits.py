"""The fake Telegram server: rate limits and failure injection."""

import threading
import time

import pytest
import requests
from fake_telegram_helpers import (
    SUPERGROUP,
    TOKEN,
    TOKEN2,
    api,
    fixture_http,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    ft,
    ok,
    paced_sends,
    refused,
)

# ------------------------------------------------------------------------------------------------------------
# rate limits
# ------------------------------------------------------------------------------------------------------------


def test_global_burst_over_the_limit_gets_429(server, http):
    server.configure(global_rate=5, chat_rate=100, chat_burst=100)
    statuses = [api(http, server, "sendMessage", chat_id=i + 1, text="x")[0] for i in range(5)]
    assert statuses == [200] * 5
    assert refused(http, server, "sendMessage", chat_id=99, text="x") == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    assert server.calls[-1].status == 429
    assert len(server.sent_messages()) == 5 and server.sent_messages(chat_id=99) == []


def test_global_pacing_at_the_limit_passes(server, http):
    server.configure(global_rate=20, global_window=0.5, chat_rate=100, chat_burst=100)
    statuses = paced_sends(http, server, 30, 0.5 / 20, lambda i: i + 1)
    assert statuses == [200] * 30


def test_global_pacing_ten_percent_over_is_refused(server, http):
    server.configure(global_rate=20, global_window=0.5, chat_rate=100, chat_burst=100)
    statuses = paced_sends(http, server, 21, 0.5 / 20 / 1.1, lambda i: i + 1)
    assert statuses == [200] * 20 + [429]


def test_paid_broadcast_raises_the_global_limit(server, http):
    server.configure(global_rate=5, chat_rate=100, chat_burst=100)
    statuses = [
        api(
            http,
            server,
            "sendMessage",
            chat_id=i + 1,
            text="promo",
            allow_paid_broadcast=True,
        )[0]
        for i in range(12)
    ]
    assert statuses == [200] * 12
    assert api(http, server, "sendMessage", chat_id=50, text="free")[0] == 429


def test_chat_limit_burst_then_429(server, http):
    statuses = [api(http, server, "sendMessage", chat_id=42, text="x")[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    status, body = refused(http, server, "sendMessage", chat_id=42, text="x")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert api(http, server, "sendMessage", chat_id=43, text="other chat")[0] == 200


def test_chat_pacing_at_the_limit_passes_and_ten_percent_over_does_not(server, http):
    # A 1 s window (5 % tolerance: 50 ms) so that a loaded machine's scheduling jitter does not decide.
    server.configure(chat_rate=1, chat_window=1.0, chat_burst=1)
    assert paced_sends(http, server, 4, 1.0, lambda i: 42) == [200] * 4
    assert paced_sends(http, server, 2, 1.0 / 1.1, lambda i: 43) == [200, 429]


def test_group_limit(server, http):
    server.configure(group_rate=5, group_window=0.5, chat_rate=100, chat_burst=100)
    assert paced_sends(http, server, 12, 0.5 / 5, lambda i: SUPERGROUP) == [200] * 12
    server.reset()
    assert [api(http, server, "sendMessage", chat_id=-300, text="x")[0] for _ in range(6)] == [200] * 5 + [
        429
    ]
    assert (
        api(
            http,
            server,
            "sendMessage",
            chat_id=300,
            text="private chats have no group limit",
        )[0]
        == 200
    )


def test_media_group_counts_per_item(server, http):
    server.configure(global_rate=5, chat_rate=100, chat_burst=100, enforce_retry_after=False)
    album = [{"type": "photo", "media": f"https://e.x/{i}.jpg"} for i in range(4)]
    assert api(http, server, "sendMediaGroup", chat_id=1, media=album)[0] == 200
    assert api(http, server, "sendMediaGroup", chat_id=2, media=album[:2])[0] == 429
    assert api(http, server, "sendMessage", chat_id=3, text="fifth")[0] == 200
    assert api(http, server, "copyMessage", chat_id=4, from_chat_id=3, message_id=1)[0] == 429


def test_retry_after_is_enforced_until_it_passes(server, http):
    server.configure(global_rate=2, global_window=0.1, chat_rate=100, chat_burst=100)
    assert [api(http, server, "sendMessage", chat_id=i + 1, text="x")[0] for i in range(3)] == [200, 200, 429]
    refused_at = time.monotonic()
    time.sleep(0.3)  # the window is free again, but Telegram still holds the bot
    assert refused(http, server, "sendMessage", chat_id=9, text="x")[1]["parameters"] == {"retry_after": 1}
    time.sleep(max(0.0, refused_at + 1.05 - time.monotonic()))
    assert api(http, server, "sendMessage", chat_id=9, text="x")[0] == 200


def test_without_enforcement_the_window_decides(server, http):
    server.configure(
        global_rate=2,
        global_window=0.1,
        chat_rate=100,
        chat_burst=100,
        enforce_retry_after=False,
    )
    assert [api(http, server, "sendMessage", chat_id=i + 1, text="x")[0] for i in range(3)] == [200, 200, 429]
    time.sleep(0.15)
    assert api(http, server, "sendMessage", chat_id=9, text="x")[0] == 200


def test_only_sending_methods_count(server, http):
    server.configure(global_rate=1)
    for _ in range(3):
        ok(http, server, "getMe")
        ok(http, server, "sendChatAction", chat_id=1, action="typing")
        ok(http, server, "getWebhookInfo")
        ok(http, server, "answerCallbackQuery", callback_query_id="1")
    assert api(http, server, "sendMessage", chat_id=1, text="x")[0] == 200
    assert api(http, server, "sendMessage", chat_id=2, text="x")[0] == 429


def test_rate_limits_can_be_switched_off(server, http):
    server.configure(rate_limits=False)
    assert {api(http, server, "sendMessage", chat_id=1, text="x")[0] for _ in range(40)} == {200}


def test_configure_rejects_unknown_settings(server):
    with pytest.raises(TypeError):
        server.configure(global_rat=3)


# ------------------------------------------------------------------------------------------------------------
# failure injection
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "status", "description", "parameters"),
    [
        ("blocked", {}, 403, "Forbidden: bot was blocked by the user", None),
        ("deactivated", {}, 403, "Forbidden: user is deactivated", None),
        ("kicked", {}, 403, "Forbidden: bot was kicked from the group chat", None),
        (
            "migrate",
            {},
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": -10042},
        ),
        (
            "migrate",
            {"migrate_to_chat_id": -1007},
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": -1007},
        ),
        ("server_error", {}, 500, "Internal Server Error", None),
        ("server_error", {"status": 502}, 502, "Bad Gateway", None),
        (
            "retry_after",
            {"retry_after": 7},
            429,
            "Too Many Requests: retry after 7",
            {"retry_after": 7},
        ),
        (
            "custom",
            {"status": 400, "description": "Bad Request: CHAT_WRITE_FORBIDDEN"},
            400,
            "Bad Request: CHAT_WRITE_FORBIDDEN",
            None,
        ),
    ],
)
def test_fail_next_kinds(server, http, kind, options, status, description, parameters):
    server.fail_next("sendMessage", chat_id=42, kind=kind, **options)
    expected = {"ok": False, "error_code": status, "description": description}
    if parameters:
        expected["parameters"] = parameters
    assert api(http, server, "sendMessage", chat_id=42, text="x") == (status, expected)
    assert server.calls[-1].status == status and server.sent_messages() == []
    assert api(http, server, "sendMessage", chat_id=42, text="x")[0] == 200  # times=1


def test_fail_next_matching(server, http):
    server.fail_next(kind="blocked")  # any sending method, any chat
    assert ok(http, server, "getMe")
    assert api(http, server, "sendPhoto", chat_id=5, photo="https://e.x/a.jpg")[0] == 403
    server.fail_next("getMe", kind="server_error", times=2)
    assert [api(http, server, "getMe")[0] for _ in range(3)] == [500, 500, 200]
    server.fail_next(chat_id=7, kind="deactivated", times=None)
    assert api(http, server, "sendMessage", chat_id=8, text="x")[0] == 200
    assert [api(http, server, "sendMessage", chat_id=7, text="x")[0] for _ in range(3)] == [403, 403, 403]
    server.clear_failures()
    assert api(http, server, "sendMessage", chat_id=7, text="x")[0] == 200
    with pytest.raises(ValueError):
        server.fail_next(kind="meteor")


def test_fail_next_hang_closes_without_an_answer(server, http):
    server.fail_next("sendMessage", kind="hang", seconds=0.3)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        http.post(
            f"{server.base_url}/bot{TOKEN}/sendMessage",
            json={"chat_id": 1, "text": "x"},
            timeout=5,
        )
    assert 0.25 <= time.monotonic() - started < 3
    call = server.calls[-1]
    assert (call.method, call.status, call.hung) == ("sendMessage", None, True)
    assert server.sent_messages() == []
    assert api(http, server, "sendMessage", chat_id=1, text="x")[0] == 200


def test_hang_is_released_by_stop():
    srv = ft.FakeTelegram().start()
    srv.add_bot(TOKEN)
    srv.fail_next(kind="hang")
    outcome = {}

    def client():
        with requests.Session() as http:
            http.trust_env = False
            try:
                http.post(
                    f"{srv.base_url}/bot{TOKEN}/sendMessage",
                    json={"chat_id": 1, "text": "x"},
                    timeout=10,
                )
                outcome["result"] = "answered"
            except requests.RequestException as exc:
                outcome["result"] = type(exc).__name__

    thread = threading.Thread(target=client)
    thread.start()
    assert srv.wait_until(lambda: any(c.hung for c in srv.calls), timeout=5)
    started = time.monotonic()
    srv.stop()
    thread.join(5)
    assert time.monotonic() - started < 2
    assert outcome["result"] == "ConnectionError"


def test_stop_ends_a_long_poll_quickly():
    srv = ft.FakeTelegram().start()
    srv.add_bot(TOKEN)
    outcome = {}

    def client():
        with requests.Session() as http:
            http.trust_env = False
            try:
                http.post(
                    f"{srv.base_url}/bot{TOKEN}/getUpdates",
                    json={"timeout": 30},
                    timeout=40,
                )
                outcome["done"] = True
            except requests.RequestException:
                outcome["done"] = True

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    srv.stop()
    thread.join(5)
    assert outcome == {"done": True} and time.monotonic() - started < 2


def test_block_chat_until_unblocked(server, http):
    server.block_chat(42)
    server.block_chat(-500)
    server.add_chat(SUPERGROUP, type="supergroup")
    server.block_chat(SUPERGROUP)
    assert refused(http, server, "sendMessage", chat_id=42, text="x") == (
        403,
        {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was blocked by the user",
        },
    )
    assert refused(http, server, "sendPhoto", chat_id=42, photo="https://e.x/p.jpg")[0] == 403
    assert refused(http, server, "sendChatAction", chat_id=42, action="typing")[0] == 403
    assert refused(http, server, "sendMessage", chat_id=-500, text="x")[1]["description"] == (
        "Forbidden: bot was kicked from the group chat"
    )
    assert refused(http, server, "sendMessage", chat_id=SUPERGROUP, text="x")[1]["description"] == (
        "Forbidden: bot was kicked from the supergroup chat"
    )
    assert ok(http, server, "getChat", chat_id=42)["id"] == 42
    assert api(http, server, "sendMessage", chat_id=43, text="x")[0] == 200
    server.unblock_chat(42)
    assert api(http, server, "sendMessage", chat_id=42, text="x")[0] == 200


def test_block_chat_for_one_bot_only(server, http):
    server.add_bot(TOKEN2)
    server.block_chat(42, token=TOKEN2)
    assert api(http, server, "sendMessage", TOKEN2, chat_id=42, text="x")[0] == 403
    assert api(http, server, "sendMessage", TOKEN, chat_id=42, text="x")[0] == 200


def test_migrate_chat_is_persistent(server, http):
    server.migrate_chat(-4242, SUPERGROUP)
    for _ in range(2):
        status, body = refused(http, server, "sendMessage", chat_id=-4242, text="x")
        assert (status, body["parameters"]) == (400, {"migrate_to_chat_id": SUPERGROUP})
    assert ok(http, server, "sendMessage", chat_id=SUPERGROUP, text="x")["chat"]["type"] == "supergroup"
