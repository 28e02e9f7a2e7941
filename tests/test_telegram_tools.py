"""Tests of chatbot_telegram's pure-Python tools: the Bot API client (``tools/bot_api.py``) against the fake
Telegram server over real HTTP: transport and error mapping, other helpers.

Sending is in ``test_telegram_tools_send.py``, the update parser (``tools/parse.py``) on realistic updates in
``test_telegram_tools_parse_*.py``, the helpers in ``telegram_tools_helpers.py``.
Run: ``.venv/bin/python -m pytest -q -p no:cacheprovider tests/test_telegram_tools*.py``.
"""

import logging
import time

import pytest
import requests
from telegram_tools_helpers import (
    FORUM,
    TOKEN,
    OutboundMessage,
    RecordingSession,
    assert_no_token,
    bot_api,
    fixture_api,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_session,  # noqa: F401 (a fixture: the tests request it by name)
    free_port,
    ft,
    parse,
)

# ------------------------------------------------------------------------------------------------------------
# transport and error mapping
# ------------------------------------------------------------------------------------------------------------


def test_get_me_and_repr_hide_the_token(api, server):
    me = api.get_me()
    assert me["username"] == "demo_bot"
    assert me["id"] == 123456
    assert repr(api) == f"<BotApi {server.base_url} bot 123456>"
    assert api.bot_id == "123456"
    call = server.calls_for("getMe")[0]
    assert call.http_method == "POST"
    assert call.ok


def test_retry_after_in_private_chat_is_chat_scoped(api, server):
    server.fail_next("sendMessage", chat_id=42, kind="retry_after", retry_after=7)
    with pytest.raises(bot_api.RetryLater) as info:
        api.send(OutboundMessage(chat_id="42", text="hi"))
    assert str(info.value) == "Telegram sendMessage: Too Many Requests: retry after 7"
    assert info.value.retry_after == 7.0
    assert info.value.scope == "chat"


def test_retry_after_in_group_is_channel_scoped(api, server):
    server.fail_next("sendMessage", kind="retry_after", retry_after=3)
    with pytest.raises(bot_api.RetryLater) as info:
        api.send(OutboundMessage(chat_id=str(FORUM), text="hi"))
    assert (info.value.retry_after, info.value.scope) == (3.0, "channel")


def test_retry_after_without_chat_is_channel_scoped(api, server):
    server.fail_next("getMe", kind="retry_after", retry_after=2)
    with pytest.raises(bot_api.RetryLater) as info:
        api.get_me()
    assert (info.value.retry_after, info.value.scope) == (2.0, "channel")


def test_real_rate_limit_of_a_private_chat(api, server):
    server.configure(rate_limits=True)  # one message per second per chat, bursts of three
    for index in range(3):
        api.send(OutboundMessage(chat_id="42", text=f"message {index}"))
    with pytest.raises(bot_api.RetryLater) as info:
        api.send(OutboundMessage(chat_id="42", text="one too many"))
    assert info.value.scope == "chat"
    assert info.value.retry_after == 1.0
    assert len(server.sent_messages(42)) == 3


def test_blocked_recipient(api, server):
    server.block_chat(42)
    with pytest.raises(bot_api.RecipientBlocked) as info:
        api.send(OutboundMessage(chat_id="42", text="hi"))
    assert str(info.value) == "Telegram sendMessage: Forbidden: bot was blocked by the user"


def test_deactivated_user_is_blocked_too(api, server):
    server.fail_next("sendMessage", kind="deactivated")
    with pytest.raises(bot_api.RecipientBlocked, match="user is deactivated"):
        api.send(OutboundMessage(chat_id="43", text="hi"))


def test_migrated_group(api, server):
    server.migrate_chat(-555, -1000555)
    with pytest.raises(bot_api.ChatMigrated) as info:
        api.send(OutboundMessage(chat_id="-555", text="hi"))
    assert info.value.new_chat_id == "-1000555"
    assert (
        str(info.value) == "Telegram sendMessage: Bad Request: group chat was upgraded to a supergroup chat"
    )


@pytest.mark.parametrize(("status", "description"), [(500, "Internal Server Error"), (502, "Bad Gateway")])
def test_server_errors_are_transient(api, server, status, description):
    server.fail_next("sendMessage", kind="server_error", status=status)
    with pytest.raises(bot_api.TransientError) as info:
        api.send(OutboundMessage(chat_id="42", text="hi"))
    assert str(info.value) == f"Telegram sendMessage: {description}"


def test_hanging_server_times_out_as_transient(server, session):
    api = bot_api.BotApi(TOKEN, base_url=server.base_url, timeout=0.3, session=session)
    server.fail_next("getMe", kind="hang", seconds=3)
    started = time.monotonic()
    with pytest.raises(bot_api.TransientError) as info:
        api.get_me()
    assert time.monotonic() - started < 2
    assert str(info.value) == "Telegram getMe: no answer within 0.3 s"
    assert_no_token(info.value)


def test_wrong_token_is_permanent_and_not_quoted(server, session):
    wrong = "999999:WRONG-secret_value"
    api = bot_api.BotApi(wrong, base_url=server.base_url, timeout=5, session=session)
    with pytest.raises(bot_api.ConnectorError) as info:
        api.get_me()
    assert type(info.value) is bot_api.ConnectorError
    assert str(info.value) == (
        "Telegram getMe: the bot token is wrong or was revoked (Unauthorized); copy it again from @BotFather"
    )
    assert wrong not in repr(info.value)
    assert wrong not in repr(api)


def test_connection_refused_is_transient_and_redacted(session):
    api = bot_api.BotApi(TOKEN, base_url=f"http://127.0.0.1:{free_port()}", timeout=2, session=session)
    with pytest.raises(bot_api.TransientError) as info:
        api.get_me()
    assert "/bot<token>/getMe" in str(info.value)
    assert str(info.value).startswith("Telegram getMe: ")
    assert_no_token(info.value)
    with pytest.raises(bot_api.TransientError) as info:
        api.download_file("documents/file_1.txt")
    assert "/file/bot<token>/documents/file_1.txt" in str(info.value)
    assert_no_token(info.value)


def test_body_that_is_not_json_is_transient(server, session):
    # The fake's file server answers raw bytes: a base URL pointing there gives a 200 that is not JSON.
    server.add_file(TOKEN, b"<html>maintenance</html>", file_path="getMe")
    api = bot_api.BotApi(TOKEN, base_url=f"{server.base_url}/file", timeout=5, session=session)
    with pytest.raises(bot_api.TransientError) as info:
        api.get_me()
    assert str(info.value) == "Telegram getMe: HTTP 200 with an answer that is not the Bot API's"


def test_bad_request_and_unknown_method_are_permanent(api, server):
    with pytest.raises(bot_api.ConnectorError) as info:
        api.send_chat_action(42, action="dancing")
    assert type(info.value) is bot_api.ConnectorError
    assert str(info.value) == "Telegram sendChatAction: Bad Request: wrong parameter action in request"
    with pytest.raises(bot_api.ConnectorError) as info:
        api.call("noSuchMethod")
    assert type(info.value) is bot_api.ConnectorError
    assert str(info.value) == "Telegram noSuchMethod: Not Found (unknown method, or a malformed bot token)"


def test_logs_are_debug_only_without_token_or_payload(api, server, caplog):
    caplog.set_level(logging.DEBUG, logger=bot_api.__name__)
    api.send(OutboundMessage(chat_id="42", text="very private words"))
    server.block_chat(42)
    with pytest.raises(bot_api.RecipientBlocked):
        api.send(OutboundMessage(chat_id="42", text="more private words"))
    records = [r for r in caplog.records if r.name == bot_api.__name__]
    assert records
    assert {r.levelno for r in records} == {logging.DEBUG}
    assert TOKEN not in caplog.text
    assert "private words" not in caplog.text
    assert "Telegram sendMessage: HTTP 200 in" in caplog.text
    assert "Telegram sendMessage: error 403" in caplog.text


# ------------------------------------------------------------------------------------------------------------
# other helpers
# ------------------------------------------------------------------------------------------------------------


def test_webhook_setup(api, server):
    assert api.set_webhook("http://127.0.0.1:9/hook", "s3cret_-", ["message", "callback_query"], 5) is True
    info = api.get_webhook_info()
    assert info["url"] == "http://127.0.0.1:9/hook"
    assert info["max_connections"] == 5
    assert info["allowed_updates"] == ["message", "callback_query"]
    params = server.calls_for("setWebhook")[0].params
    assert params["secret_token"] == "s3cret_-"
    assert params["drop_pending_updates"] is False
    assert api.delete_webhook(drop_pending_updates=True) is True
    assert api.get_webhook_info()["url"] == ""


def test_get_updates_long_poll_outlives_the_client_timeout(server, session):
    api = bot_api.BotApi(TOKEN, base_url=server.base_url, timeout=0.5, session=session)
    assert api.get_updates(None, 1, ["message"]) == []  # the fake holds the call for 1 s > 0.5 s
    assert session.timeouts[-1] == 1.5
    pushed = server.push_update(TOKEN, ft.make_message_update(42, "hello"))
    updates = api.get_updates(None, 0, ["message"], limit=10)
    assert updates == [pushed]
    assert server.calls_for("getUpdates")[-1].params["limit"] == 10
    assert parse.parse_update(updates[0])[0].text == "hello"


def test_file_download_and_limit(api, server):
    file_id = server.add_file(TOKEN, b"hello world", file_name="notes.txt")
    info = api.get_file(file_id)
    assert info["file_size"] == 11
    assert api.download_file(info["file_path"]) == b"hello world"
    with pytest.raises(bot_api.ConnectorError) as exc_info:
        api.download_file(info["file_path"], max_bytes=5)
    assert str(exc_info.value) == "Telegram file download: the file is 11 bytes, above the limit of 5 bytes"
    with pytest.raises(bot_api.ConnectorError, match=r"HTTP 404 \(file not found or link expired\)"):
        api.download_file("documents/missing.txt")
    big = server.add_file(TOKEN, b"x", file_size=30 * 1024 * 1024)
    with pytest.raises(bot_api.ConnectorError) as exc_info:
        api.get_file(big)
    assert str(exc_info.value) == "Telegram getFile: Bad Request: file is too big"


def test_download_limit_without_content_length(api, server, monkeypatch):
    # a server streaming without Content-Length: the limit holds while reading
    file_id = server.add_file(TOKEN, b"y" * 300_000)
    path = api.get_file(file_id)["file_path"]
    original = requests.Session.get

    def get_without_length(self, url, **kwargs):
        response = original(self, url, **kwargs)
        del response.headers["Content-Length"]
        return response

    monkeypatch.setattr(RecordingSession, "get", get_without_length)
    with pytest.raises(bot_api.ConnectorError) as exc_info:
        api.download_file(path, max_bytes=100_000)
    assert str(exc_info.value) == "Telegram file download: the file is larger than the limit of 100000 bytes"
    assert api.download_file(path, max_bytes=300_000) == b"y" * 300_000


def test_user_profile_photo(api, server):
    server.set_profile_photos(TOKEN, 42, [b"current-photo", b"older-photo"])
    assert api.get_user_profile_photo(42) == b"current-photo"
    assert api.get_user_profile_photo(43) is None
    assert server.calls_for("getUserProfilePhotos")[0].params["limit"] == 1


def test_callback_answer_and_chat_action(api, server):
    assert api.answer_callback_query("4382000000000000001", text="Saved") is True
    assert server.calls_for("answerCallbackQuery")[0].params == {
        "callback_query_id": "4382000000000000001",
        "text": "Saved",
    }
    assert api.send_chat_action("42") is True
    assert server.calls_for("sendChatAction")[0].params == {"chat_id": 42, "action": "typing"}


def test_forum_topics_follow_the_conversation(api, server):
    server.add_chat(FORUM, type="supergroup", is_forum=True, title="Operators")
    thread_id = api.create_forum_topic(FORUM, "Ada Lovelace · " + "x" * 200)
    topic = server.topics(FORUM)[int(thread_id)]
    assert len(topic["name"]) == 128
    assert api.edit_forum_topic(FORUM, thread_id, "Ada L.") is True
    assert api.edit_forum_topic(FORUM, thread_id, "Ada L.") is False
    assert api.close_forum_topic(FORUM, thread_id) is True
    assert api.close_forum_topic(FORUM, thread_id) is False
    assert server.topics(FORUM)[int(thread_id)]["closed"] is True
    assert api.reopen_forum_topic(FORUM, thread_id) is True
    assert api.reopen_forum_topic(FORUM, thread_id) is False
    assert server.topics(FORUM)[int(thread_id)] == {
        "message_thread_id": int(thread_id),
        "name": "Ada L.",
        "icon_color": 7322096,
        "closed": False,
    }
    assert api.send_chat_action(FORUM, message_thread_id=thread_id) is True
    with pytest.raises(bot_api.ConnectorError, match="the chat is not a forum"):
        api.create_forum_topic(42, "x")


def test_copy_message_into_a_topic(api, server):
    server.add_chat(FORUM, type="supergroup", is_forum=True, title="Operators")
    thread_id = api.create_forum_topic(FORUM, "Ada")
    original = server.push_message(TOKEN, 42, "Where is my order?")
    copy_id = api.copy_message(FORUM, 42, original["message"]["message_id"], message_thread_id=thread_id)
    copied = server.get_message(FORUM, int(copy_id))
    assert copied["text"] == "Where is my order?"
    assert copied["message_thread_id"] == int(thread_id)
