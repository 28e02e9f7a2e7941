"""The Bot API client (``tools/bot_api.py``) against the fake Telegram server: sending text, keyboards and
files.
"""

import pytest
from telegram_tools_helpers import (
    FORUM,
    PDF,
    PNG,
    Button,
    OutboundMessage,
    bot_api,
    fixture_api,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_session,  # noqa: F401 (a fixture: the tests request it by name)
)

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
