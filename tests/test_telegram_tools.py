"""Tests of chatbot_telegram's pure-Python tools: the Bot API client (``tools/bot_api.py``) against the fake
Telegram server over real HTTP, and the update parser (``tools/parse.py``) on realistic updates.

The addon is not an importable package outside Odoo, so ``chatbot_telegram/tools`` is loaded by file path as
a package of its own; the connector's classes are taken from the loaded modules, whichever way they got them.
Run: ``.venv/bin/python -m pytest -q -p no:cacheprovider tests/test_telegram_tools.py``.
"""

import importlib.util
import logging
import pathlib
import socket
import sys
import time
import traceback

import pytest
import requests
from harness import load_fake_telegram

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_tools():
    folder = ROOT / "chatbot_telegram" / "tools"
    spec = importlib.util.spec_from_file_location(
        "bots_chatbot_telegram_tools", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tools = _load_tools()
bot_api = tools.bot_api
parse = tools.parse
connector = sys.modules[bot_api.ConnectorError.__module__]
ft = load_fake_telegram()

Button = connector.Button
OutboundMessage = connector.OutboundMessage
InboundEvent = connector.InboundEvent
InboundFile = connector.InboundFile
SenderProfile = connector.SenderProfile
Thread = connector.Thread

TOKEN = "123456:SECRET-token_xyz987"
FORUM = -1001777000000
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
PDF = b"%PDF-1.4\n" + b"1" * 64


@pytest.fixture
def server(fake_telegram):
    fake_telegram.configure(rate_limits=False)
    fake_telegram.add_bot(TOKEN, username="demo_bot")
    return fake_telegram


class RecordingSession(requests.Session):
    """A session that remembers the timeout of every request (and never uses an environment proxy)."""

    def __init__(self):
        super().__init__()
        self.trust_env = False
        self.timeouts = []

    def request(self, method, url, *args, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def session():
    with RecordingSession() as recording:
        yield recording


@pytest.fixture
def api(server, session):
    return bot_api.BotApi(TOKEN, base_url=server.base_url, timeout=5, session=session)


def assert_no_token(exc):
    """The token is nowhere: message, repr, chained exceptions, formatted traceback."""
    assert TOKEN not in str(exc)
    assert TOKEN not in repr(exc)
    assert exc.__cause__ is None
    assert exc.__context__ is None
    assert TOKEN not in "".join(traceback.format_exception(exc))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
# sending text and keyboards
# ------------------------------------------------------------------------------------------------------------


def test_text_is_html_escaped(api, server):
    text = "1 < 2 & 3 > 0, and <b>not bold</b> &amp; co"
    message_id = api.send(OutboundMessage(chat_id="42", text=text))
    sent = server.sent_messages(42)
    assert len(sent) == 1
    assert sent[0]["text"] == text
    assert "entities" not in sent[0]
    assert message_id == str(sent[0]["message_id"])
    params = server.calls_for("sendMessage")[0].params
    assert params["parse_mode"] == "HTML"
    assert params["text"] == "1 &lt; 2 &amp; 3 &gt; 0, and &lt;b&gt;not bold&lt;/b&gt; &amp;amp; co"
    assert params["chat_id"] == 42


def test_long_text_is_split_on_paragraphs_with_buttons_on_the_last_part(api, server):
    text = "A" * 3000 + "\n\n" + "B" * 3000 + "\n\n" + "C" * 2500
    buttons = [[Button("Yes", data="yes")]]
    message_id = api.send(OutboundMessage(chat_id="42", text=text, buttons=buttons))
    sent = server.sent_messages(42)
    assert [m["text"] for m in sent] == ["A" * 3000, "B" * 3000, "C" * 2500]
    assert ["reply_markup" in m for m in sent] == [False, False, True]
    assert sent[-1]["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    assert message_id == str(sent[-1]["message_id"])


def test_split_text_boundaries():
    limit = bot_api.TEXT_LIMIT
    assert limit == 4096
    assert bot_api.split_text("x" * 5000) == ["x" * 4096, "x" * 904]
    assert bot_api.split_text("x" * 4096) == ["x" * 4096]
    lines = "a" * 3000 + "\n" + "b" * 2000
    assert bot_api.split_text(lines) == ["a" * 3000, "b" * 2000]
    words = ("word " * 1000).strip()  # 4999 characters
    parts = bot_api.split_text(words)
    assert [len(p) for p in parts] == [4094, 904]
    assert " ".join(parts) == words
    # a paragraph break early in the window loses against a line break late in it
    mixed = "p" * 100 + "\n\n" + "q" * 3900 + "\n" + "r" * 500
    assert bot_api.split_text(mixed) == ["p" * 100 + "\n\n" + "q" * 3900, "r" * 500]
    assert bot_api.split_text("   ") == []
    assert bot_api.split_text("short", limit=10) == ["short"]


def test_inline_buttons_with_url(api, server):
    buttons = [
        [Button("Yes", data="answer:1"), Button("Site", url="https://example.com/help")],
        [Button("No", data="n")],
    ]
    api.send(OutboundMessage(chat_id="42", text="Pick one", buttons=buttons))
    assert server.sent_messages(42)[0]["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Yes", "callback_data": "answer:1"},
                {"text": "Site", "url": "https://example.com/help"},
            ],
            [{"text": "No", "callback_data": "n"}],
        ]
    }


def test_reply_keyboard_requests_the_contact(api, server):
    keyboard = [[Button("Share my phone", request_phone=True)], [Button("No thanks")]]
    api.send(OutboundMessage(chat_id="42", text="Your phone?", keyboard=keyboard))
    assert server.calls_for("sendMessage")[0].params["reply_markup"] == {
        "keyboard": [[{"text": "Share my phone", "request_contact": True}], [{"text": "No thanks"}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


def test_remove_keyboard(api, server):
    api.send(OutboundMessage(chat_id="42", text="Thanks", remove_keyboard=True))
    assert server.calls_for("sendMessage")[0].params["reply_markup"] == {"remove_keyboard": True}


def test_callback_data_too_long_fails_before_any_call(api, server):
    api.send(OutboundMessage(chat_id="42", text="ok", buttons=[[Button("Fits", data="é" * 32)]]))  # 64 bytes
    server.reset()
    with pytest.raises(bot_api.ConnectorError) as info:
        api.send(OutboundMessage(chat_id="42", text="too long", buttons=[[Button("Long", data="é" * 33)]]))
    assert str(info.value) == (
        "Telegram: the data of the button 'Long' is 66 bytes long, above Telegram's limit of 64 bytes"
    )
    with pytest.raises(bot_api.ConnectorError, match="neither data nor a URL"):
        api.send(OutboundMessage(chat_id="42", text="x", buttons=[[Button("Empty")]]))
    with pytest.raises(bot_api.ConnectorError, match="either inline buttons or a reply keyboard"):
        api.send(
            OutboundMessage(
                chat_id="42", text="x", buttons=[[Button("a", data="a")]], keyboard=[[Button("b")]]
            )
        )
    with pytest.raises(bot_api.ConnectorError, match="nothing to send"):
        api.send(OutboundMessage(chat_id="42", text="  "))
    assert server.calls == []


def test_thread_and_reply_parameters(api, server):
    server.add_chat(FORUM, type="supergroup", is_forum=True, title="Operators")
    thread_id = api.create_forum_topic(FORUM, "Ada Lovelace")
    message_id = api.send(
        OutboundMessage(
            chat_id=str(FORUM), text="New customer", thread_id=thread_id, reply_to_message_id="999"
        )
    )
    params = server.calls_for("sendMessage")[0].params
    assert params["message_thread_id"] == int(thread_id)
    assert params["reply_parameters"] == {"message_id": 999, "allow_sending_without_reply": True}
    sent = server.get_message(FORUM, int(message_id))
    assert sent["message_thread_id"] == int(thread_id)
    assert sent["is_topic_message"] is True


def test_edit_message_text(api, server):
    message_id = api.send(OutboundMessage(chat_id="42", text="Step 1", buttons=[[Button("Next", data="n")]]))
    edited_id = api.send(OutboundMessage(chat_id="42", text="Step 1 <done>", edit_message_id=message_id))
    assert edited_id == message_id
    assert server.get_message(42, int(message_id))["text"] == "Step 1 <done>"
    assert "reply_markup" not in server.get_message(42, int(message_id))
    # the same content again: Telegram says "not modified", which is no failure
    assert (
        api.send(OutboundMessage(chat_id="42", text="Step 1 <done>", edit_message_id=message_id))
        == message_id
    )
    with pytest.raises(bot_api.ConnectorError, match="only its text and inline buttons"):
        api.send(
            OutboundMessage(chat_id="42", text="x", edit_message_id=message_id), [("a.png", "image/png", PNG)]
        )
    assert len(server.calls_for("editMessageText")) == 2


# ------------------------------------------------------------------------------------------------------------
# sending files
# ------------------------------------------------------------------------------------------------------------


def test_one_photo_with_caption(api, server):
    message_id = api.send(
        OutboundMessage(chat_id="42", text="A cat & a dog"), [("cat.png", "image/png", PNG)]
    )
    [call] = server.calls_for("sendPhoto")
    assert call.files["photo"].filename == "cat.png"
    assert call.files["photo"].content == PNG
    assert call.params["caption"] == "A cat &amp; a dog"
    [sent] = server.sent_messages(42)
    assert sent["caption"] == "A cat & a dog"
    assert "photo" in sent
    assert message_id == str(sent["message_id"])
    assert server.calls_for("sendMessage") == []


def test_one_document_with_keyboard(api, server):
    keyboard = [[Button("Got it", data="ok")]]
    api.send(
        OutboundMessage(chat_id="42", text="Your invoice", buttons=keyboard),
        [("inv.pdf", "application/pdf", PDF)],
    )
    [sent] = server.sent_messages(42)
    assert sent["document"]["file_name"] == "inv.pdf"
    assert sent["document"]["mime_type"] == "application/pdf"
    assert sent["caption"] == "Your invoice"
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Got it", "callback_data": "ok"}]]}


def test_photo_or_document():
    assert bot_api.is_photo("image/jpeg", PNG) is True
    assert bot_api.is_photo("image/gif", PNG) is False
    assert bot_api.is_photo("image/svg+xml", PNG) is False
    assert bot_api.is_photo("application/pdf", PDF) is False
    assert bot_api.PHOTO_UPLOAD_LIMIT == 10_000_000
    assert bot_api.is_photo("image/png", bytes(bot_api.PHOTO_UPLOAD_LIMIT)) is True
    assert bot_api.is_photo("image/png", bytes(bot_api.PHOTO_UPLOAD_LIMIT + 1)) is False


def test_caption_too_long_goes_first_as_a_message(api, server):
    text = "x" * 1500
    message_id = api.send(OutboundMessage(chat_id="42", text=text), [("cat.jpg", "image/jpeg", PNG)])
    assert [c.method for c in server.calls] == ["sendMessage", "sendPhoto"]
    sent = server.sent_messages(42)
    assert sent[0]["text"] == text
    assert "caption" not in sent[1]
    assert message_id == str(sent[1]["message_id"])


def test_media_groups_separate_photos_and_documents(api, server):
    files = [(f"p{i}.jpg", "image/jpeg", PNG) for i in range(3)] + [
        ("a.pdf", "application/pdf", PDF),
        ("anim.gif", "image/gif", PNG),
    ]
    message_id = api.send(OutboundMessage(chat_id="42", text="Your <files>", reply_to_message_id="3"), files)
    calls = server.calls_for("sendMediaGroup")
    # multipart: complex values travel JSON-encoded; only the first message replies
    assert calls[0].params["reply_parameters"] == {"message_id": 3, "allow_sending_without_reply": True}
    assert "reply_parameters" not in calls[1].params
    assert sorted(calls[0].files) == ["file0", "file1", "file2"]
    assert [[item["type"] for item in c.params["media"]] for c in calls] == [
        ["photo", "photo", "photo"],
        ["document", "document"],
    ]
    assert calls[0].params["media"][0]["caption"] == "Your &lt;files&gt;"
    assert "caption" not in calls[1].params["media"][0]
    sent = server.sent_messages(42)
    assert len(sent) == 5
    assert sent[0]["caption"] == "Your <files>"
    assert [m["document"]["file_name"] for m in sent[3:]] == ["a.pdf", "anim.gif"]
    assert message_id == str(sent[-1]["message_id"])
    assert server.calls_for("sendMessage") == []


def test_media_groups_split_beyond_ten(api, server):
    files = [(f"p{i}.png", "image/png", PNG) for i in range(11)]
    api.send(OutboundMessage(chat_id="42", text=""), files)
    assert [len(c.params["media"]) for c in server.calls_for("sendMediaGroup")] == [6, 5]
    assert len(server.sent_messages(42)) == 11
    assert [len(b) for b in bot_api._batches(list(range(21)))] == [7, 7, 7]
    assert [len(b) for b in bot_api._batches(list(range(10)))] == [10]


def test_media_group_with_keyboard_sends_it_in_a_text_message(api, server):
    files = [("p0.png", "image/png", PNG), ("p1.png", "image/png", PNG)]
    message_id = api.send(
        OutboundMessage(chat_id="42", text="Which one?", buttons=[[Button("First", data="1")]]), files
    )
    assert [c.method for c in server.calls] == ["sendMediaGroup", "sendMessage"]
    sent = server.sent_messages(42)
    assert "caption" not in sent[0]
    assert sent[-1]["text"] == "Which one?"
    assert sent[-1]["reply_markup"] == {"inline_keyboard": [[{"text": "First", "callback_data": "1"}]]}
    assert message_id == str(sent[-1]["message_id"])


def test_media_group_with_keyboard_and_no_text_puts_it_on_the_last_file(api, server):
    files = [(f"p{i}.png", "image/png", PNG) for i in range(3)]
    api.send(OutboundMessage(chat_id="42", keyboard=[[Button("Done")]]), files)
    assert [c.method for c in server.calls] == ["sendMediaGroup", "sendPhoto"]
    assert len(server.calls[0].params["media"]) == 2
    assert server.calls[1].params["reply_markup"]["keyboard"] == [[{"text": "Done"}]]


def test_one_image_and_one_document_go_separately(api, server):
    files = [("p.png", "image/png", PNG), ("d.pdf", "application/pdf", PDF)]
    api.send(OutboundMessage(chat_id="42", text="Both"), files)
    assert [c.method for c in server.calls] == ["sendPhoto", "sendDocument"]
    assert [m.get("caption") for m in server.sent_messages(42)] == ["Both", None]


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


# ------------------------------------------------------------------------------------------------------------
# parsing updates
# ------------------------------------------------------------------------------------------------------------

ADA = SenderProfile(external_id="42", name="Ada Lovelace", username="ada_42", lang="en")


def update(body, update_id=1000):
    return {"update_id": update_id, **body}


def message_update(extra, chat_id=42, message_id=7, **kwargs):
    return update(ft.make_message_update(chat_id, None, message_id=message_id, **extra, **kwargs))


def test_parse_text_message():
    events = parse.parse_update(update(ft.make_message_update(42, "Hello <there>", message_id=5)))
    assert events == [
        InboundEvent(kind="message", chat_id="42", sender=ADA, message_id="5", text="Hello <there>")
    ]


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/start", "start", ""),
        ("/start ref_campaign-7", "start", "ref_campaign-7"),
        ("/end", "end", ""),
        ("/Help@demo_bot  my order ", "help", "my order"),
    ],
)
def test_parse_commands(text, command, args):
    [event] = parse.parse_update(
        update(ft.make_message_update(42, text, message_id=3)), bot_username="demo_bot"
    )
    assert (event.command, event.command_args, event.text) == (command, args, text)


def test_parse_command_for_another_bot_is_text():
    data = update(ft.make_message_update(42, "/help@other_bot now", message_id=3))
    [event] = parse.parse_update(data, bot_username="@demo_bot")
    assert (event.command, event.command_args, event.text) == ("", "", "/help@other_bot now")
    [event] = parse.parse_update(data)  # without a username every command is ours
    assert (event.command, event.command_args) == ("help", "now")


def test_parse_slash_inside_text_is_no_command():
    data = update(ft.make_message_update(42, "see a/b", message_id=3))
    [event] = parse.parse_update(data)
    assert event.command == ""


def test_parse_photo_takes_the_largest_size():
    sizes = [
        {
            "file_id": "AgAC-small",
            "file_unique_id": "AQADsmall",
            "file_size": 1200,
            "width": 90,
            "height": 67,
        },
        {
            "file_id": "AgAC-big",
            "file_unique_id": "AQADbig",
            "file_size": 98000,
            "width": 1280,
            "height": 960,
        },
        {"file_id": "AgAC-mid", "file_unique_id": "AQADmid", "file_size": 22000, "width": 320, "height": 240},
    ]
    [event] = parse.parse_update(message_update({"photo": sizes, "caption": "my receipt"}))
    assert event.files == [
        InboundFile(name="photo_AQADbig.jpg", mimetype="image/jpeg", file_ref="AgAC-big", size=98000)
    ]
    assert event.text == "my receipt"
    assert (event.kind, event.message_id) == ("message", "7")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {
                "document": {
                    "file_id": "BQAC-doc",
                    "file_unique_id": "AgADdoc",
                    "file_name": "Invoice 2024.pdf",
                    "mime_type": "application/pdf",
                    "file_size": 48213,
                }
            },
            InboundFile("Invoice 2024.pdf", "application/pdf", "BQAC-doc", 48213),
        ),
        (
            {
                "document": {
                    "file_id": "BQAC-raw",
                    "file_unique_id": "AgADraw",
                    "mime_type": "application/pdf",
                }
            },
            InboundFile("document_AgADraw.pdf", "application/pdf", "BQAC-raw", 0),
        ),
        (
            {"document": {"file_id": "BQAC-txt", "file_unique_id": "AgADtxt", "file_name": "notes.txt"}},
            InboundFile("notes.txt", "text/plain", "BQAC-txt", 0),
        ),
        (
            {
                "voice": {
                    "file_id": "AwAC-voice",
                    "file_unique_id": "AgADvoice",
                    "duration": 4,
                    "mime_type": "audio/ogg",
                    "file_size": 9000,
                }
            },
            InboundFile("voice_AgADvoice.ogg", "audio/ogg", "AwAC-voice", 9000),
        ),
        (
            {
                "audio": {
                    "file_id": "CQAC-audio",
                    "file_unique_id": "AgADaudio",
                    "duration": 180,
                    "file_name": "song.mp3",
                    "mime_type": "audio/mpeg",
                    "file_size": 3_000_000,
                }
            },
            InboundFile("song.mp3", "audio/mpeg", "CQAC-audio", 3_000_000),
        ),
        (
            {
                "video": {
                    "file_id": "BAAC-video",
                    "file_unique_id": "AgADvideo",
                    "width": 640,
                    "height": 360,
                    "duration": 12,
                    "file_size": 700_000,
                }
            },
            InboundFile("video_AgADvideo.mp4", "video/mp4", "BAAC-video", 700_000),
        ),
        (
            {
                "video_note": {
                    "file_id": "DQAC-note",
                    "file_unique_id": "AgADnote",
                    "length": 240,
                    "duration": 5,
                    "file_size": 200_000,
                }
            },
            InboundFile("video_note_AgADnote.mp4", "video/mp4", "DQAC-note", 200_000),
        ),
        (
            {
                "animation": {
                    "file_id": "CgAC-anim",
                    "file_unique_id": "AgADanim",
                    "width": 320,
                    "height": 240,
                    "duration": 2,
                    "file_name": "dance.gif.mp4",
                    "mime_type": "video/mp4",
                    "file_size": 50_000,
                },
                "document": {
                    "file_id": "CgAC-anim",
                    "file_unique_id": "AgADanim",
                    "file_name": "dance.gif.mp4",
                    "mime_type": "video/mp4",
                    "file_size": 50_000,
                },
            },
            InboundFile("dance.gif.mp4", "video/mp4", "CgAC-anim", 50_000),
        ),
        (
            {
                "sticker": {
                    "file_id": "CAAC-sticker",
                    "file_unique_id": "AgADstick",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                    "file_size": 20_000,
                }
            },
            InboundFile("sticker_AgADstick.webp", "image/webp", "CAAC-sticker", 20_000),
        ),
        (
            {
                "sticker": {
                    "file_id": "CAAC-tgs",
                    "file_unique_id": "AgADtgs",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": True,
                    "is_video": False,
                }
            },
            InboundFile("sticker_AgADtgs.tgs", "application/x-tgsticker", "CAAC-tgs", 0),
        ),
    ],
)
def test_parse_media(extra, expected):
    [event] = parse.parse_update(message_update(extra))
    assert event.files == [expected]
    assert event.text == ""
    assert event.sender == ADA


def test_parse_own_contact_gives_the_phone():
    [event] = parse.parse_update(update(ft.make_contact_update(42, "491701234567", message_id=9)))
    assert event == InboundEvent(
        kind="message", chat_id="42", sender=ADA, message_id="9", contact_phone="+491701234567"
    )


def test_parse_someone_elses_contact_is_text():
    data = update(ft.make_contact_update(42, "+33 6 12 34 56 78", message_id=9, own=False))
    data["message"]["contact"].update(first_name="Charles", last_name="Babbage", user_id=77)
    [event] = parse.parse_update(data)
    assert event.contact_phone == ""
    assert event.text == "Shared contact: Charles Babbage, +33612345678"


def test_parse_location_and_venue():
    location = {"latitude": 52.516275, "longitude": 13.377704}
    [event] = parse.parse_update(message_update({"location": location}))
    assert (event.location, event.text) == ((52.516275, 13.377704), "")
    venue = {"location": location, "title": "Brandenburg Gate", "address": "Pariser Platz, 10117 Berlin"}
    [event] = parse.parse_update(message_update({"location": location, "venue": venue}))
    assert event.location == (52.516275, 13.377704)
    assert event.text == "Brandenburg Gate\nPariser Platz, 10117 Berlin"


def test_parse_edited_message():
    body = ft.make_message_update(42, "Hello, corrected", message_id=12)["message"]
    body["edit_date"] = body["date"] + 30
    events = parse.parse_update(update({"edited_message": body}))
    assert events == [
        InboundEvent(kind="edit", chat_id="42", sender=ADA, message_id="12", text="Hello, corrected")
    ]


def test_parse_callback_query():
    data = update(ft.make_callback_update(42, "answer:yes", 31, callback_id="4382000000000000777"))
    assert parse.parse_update(data) == [
        InboundEvent(
            kind="button",
            chat_id="42",
            sender=ADA,
            message_id="31",
            button_data="answer:yes",
            callback_id="4382000000000000777",
        )
    ]


def test_parse_callback_query_without_message_uses_the_user():
    data = update(ft.make_callback_update(42, "x", 31, callback_id="99"))
    del data["callback_query"]["message"]
    data["callback_query"]["inline_message_id"] = "AAAAAQ"
    [event] = parse.parse_update(data)
    assert (event.kind, event.chat_id, event.message_id, event.button_data) == ("button", "42", "", "x")


def test_parse_callback_query_in_a_topic():
    topic_message = {
        "message_id": 40,
        "message_thread_id": 12,
        "is_topic_message": True,
        "from": {"id": 123456, "is_bot": True, "first_name": "Demo", "username": "demo_bot"},
        "chat": {"id": FORUM, "title": "Operators", "type": "supergroup", "is_forum": True},
        "date": 1700000000,
        "text": "Take this conversation?",
    }
    data = update(ft.make_callback_update(FORUM, "take", 40, ft.default_user(5001), message=topic_message))
    [event] = parse.parse_update(data)
    assert (event.chat_id, event.is_group, event.sender.external_id) == (str(FORUM), True, "5001")
    assert event.thread == Thread(chat_id=str(FORUM), thread_id="12")


def test_parse_my_chat_member_blocked_and_unblocked():
    [event] = parse.parse_update(update(ft.make_my_chat_member_update(42, "kicked")), bot_id=123456)
    assert event == InboundEvent(kind="blocked", chat_id="42", sender=ADA)
    [event] = parse.parse_update(update(ft.make_my_chat_member_update(42, "member")), bot_id="123456")
    assert event == InboundEvent(kind="unblocked", chat_id="42", sender=ADA)
    # about another bot (never sent to us, but then not about us either)
    assert parse.parse_update(update(ft.make_my_chat_member_update(42, "kicked")), bot_id=999) == []


def test_parse_my_chat_member_in_a_group_is_unsupported():
    with pytest.raises(parse.UnsupportedEvent) as info:
        parse.parse_update(update(ft.make_my_chat_member_update(-555, "member")))
    assert str(info.value) == "Telegram update my_chat_member of a group is not handled"


def test_parse_group_topic_message():
    operator = ft.default_user(
        5001, first_name="Grace", last_name="Hopper", username="grace", language_code="fr"
    )
    chat = {"id": FORUM, "title": "Operators", "type": "supergroup", "is_forum": True}
    topic_start = {
        "message_id": 12,
        "message_thread_id": 12,
        "from": {"id": 123456, "is_bot": True, "first_name": "Demo"},
        "chat": chat,
        "date": 1700000000,
        "is_topic_message": True,
        "forum_topic_created": {"name": "Ada Lovelace", "icon_color": 7322096},
    }
    data = update(
        ft.make_message_update(
            FORUM,
            "We ship tomorrow",
            operator,
            message_id=57,
            chat=chat,
            message_thread_id=12,
            is_topic_message=True,
            reply_to_message=topic_start,
        )
    )
    assert parse.parse_update(data) == [
        InboundEvent(
            kind="message",
            chat_id=str(FORUM),
            sender=SenderProfile(external_id="5001", name="Grace Hopper", username="grace", lang="fr"),
            message_id="57",
            text="We ship tomorrow",
            thread=Thread(chat_id=str(FORUM), thread_id="12", reply_to_message_id="12"),
            is_group=True,
        )
    ]


def test_parse_group_reply_without_topic():
    relayed = {
        "message_id": 33,
        "from": {"id": 123456, "is_bot": True, "first_name": "Demo"},
        "chat": {"id": -555, "title": "Group 555", "type": "group"},
        "date": 1700000000,
        "text": "Ada: where is my order?",
    }
    data = update(
        ft.make_message_update(
            -555, "On its way", ft.default_user(5001), message_id=34, reply_to_message=relayed
        )
    )
    [event] = parse.parse_update(data)
    assert event.thread == Thread(chat_id="-555", thread_id="", reply_to_message_id="33")
    assert (event.is_group, event.chat_id) == (True, "-555")


@pytest.mark.parametrize(
    "extra",
    [
        {"new_chat_members": [ft.default_user(5002)]},
        {"left_chat_member": ft.default_user(5002)},
        {"forum_topic_created": {"name": "Ada", "icon_color": 7322096}, "is_topic_message": True},
        {"migrate_to_chat_id": -1000555},
        {"pinned_message": {"message_id": 3, "date": 1700000000, "chat": {"id": -555, "type": "group"}}},
    ],
)
def test_parse_service_messages_give_no_event(extra):
    assert parse.parse_update(message_update(extra, chat_id=-555, user=ft.default_user(5001))) == []


def test_parse_messages_of_bots_give_no_event():
    bot = {"id": 777, "is_bot": True, "first_name": "Other", "username": "other_bot"}
    assert parse.parse_update(update(ft.make_message_update(-555, "beep", bot, message_id=2))) == []
    data = update(ft.make_message_update(42, "hi", message_id=2))
    assert parse.parse_update(data, bot_id=42) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "update_id": 5,
                "inline_query": {"id": "1", "from": ft.default_user(42), "query": "x", "offset": ""},
            },
            "Telegram update inline_query is not handled",
        ),
        (
            {
                "update_id": 5,
                "channel_post": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": -100, "type": "channel"},
                    "text": "x",
                },
            },
            "Telegram update channel_post is not handled",
        ),
        ({"update_id": 5, "Some Weird Key!": {}}, "Telegram update of an unknown kind is not handled"),
    ],
)
def test_parse_unknown_kinds_are_unsupported(data, message):
    with pytest.raises(parse.UnsupportedEvent) as info:
        parse.parse_update(data)
    assert str(info.value) == message


def test_parse_unhandled_message_content_is_unsupported_without_payload():
    with pytest.raises(parse.UnsupportedEvent) as info:
        parse.parse_update(message_update({"dice": {"emoji": "🎲", "value": 4}}))
    assert str(info.value) == "Telegram dice messages are not handled"
    story = {"chat": {"id": -100123, "type": "channel", "title": "Secret channel"}, "id": 5}
    with pytest.raises(parse.UnsupportedEvent) as info:
        parse.parse_update(message_update({"story": story}))
    assert str(info.value) == "Telegram story messages are not handled"
    with pytest.raises(parse.UnsupportedEvent) as info:
        parse.parse_update(message_update({}))
    assert str(info.value) == "Telegram empty messages are not handled"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["not", "a", "dict"], "a Telegram update must be a JSON object"),
        ({"message": {}}, "Telegram update without update_id"),
        ({"update_id": "12", "message": {}}, "the update_id of a Telegram update must be an integer"),
        ({"update_id": True, "message": {}}, "the update_id of a Telegram update must be an integer"),
        ({"update_id": 12}, "Telegram update without content"),
        ({"update_id": 12, "message": "hello"}, "Telegram update message: the body must be a JSON object"),
        (
            {"update_id": 12, "message": {"message_id": 1, "chat": {"id": 42, "type": "private"}}},
            "malformed Telegram message update (KeyError)",
        ),
        (
            {
                "update_id": 12,
                "message": {"message_id": 1, "date": "secret", "chat": {"id": 4, "type": "private"}},
            },
            "malformed Telegram message update (TypeError)",
        ),
    ],
)
def test_parse_malformed_updates(data, message):
    with pytest.raises(ValueError) as info:
        parse.parse_update(data)
    assert str(info.value) == message
    assert info.value.__cause__ is None
    assert "secret" not in "".join(traceback.format_exception(info.value))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (update(ft.make_message_update(42, "hi"), 11), ("11", "42")),
        (update({"edited_message": ft.make_message_update(-555, "hi")["message"]}, 12), ("12", "-555")),
        (
            {
                "update_id": 13,
                "channel_post": {"message_id": 1, "date": 1, "chat": {"id": -1009, "type": "channel"}},
            },
            ("13", "-1009"),
        ),
        (update(ft.make_callback_update(42, "x", 3), 14), ("14", "42")),
        ({"update_id": 15, "callback_query": {"id": "1", "from": {"id": 43}, "data": "x"}}, ("15", "43")),
        (update(ft.make_my_chat_member_update(42, "kicked"), 16), ("16", "42")),
        ({"update_id": 17, "chat_member": {"chat": {"id": -555}, "from": {"id": 5}}}, ("17", "-555")),
        ({"update_id": 18, "inline_query": {"id": "1", "from": {"id": 44}, "query": ""}}, ("18", "44")),
        ({"update_id": 19, "poll": {"id": "1", "question": "?"}}, ("19", "")),
        ({"update_id": 20, "poll_answer": {"poll_id": "1", "user": {"id": 45}}}, ("20", "45")),
        ({"update_id": 21, "message_reaction": {"chat": {"id": -555}, "message_id": 3}}, ("21", "-555")),
        ({"update_id": 22}, ("22", "")),
    ],
)
def test_update_key(data, key):
    assert parse.update_key(data) == key


def test_update_key_errors():
    with pytest.raises(KeyError):
        parse.update_key({"message": {"chat": {"id": 42}}})
    with pytest.raises(ValueError, match="must be an integer"):
        parse.update_key({"update_id": "42", "message": {}})
    with pytest.raises(ValueError, match="JSON object"):
        parse.update_key([1, 2])
