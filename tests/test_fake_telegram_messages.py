"""The fake Telegram server: sendMessage, its limits, the HTML parse mode."""

import time

import pytest
import requests
from fake_telegram_helpers import (
    TOKEN,
    api,
    fixture_http,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    ft,
    ok,
    refused,
)

# ------------------------------------------------------------------------------------------------------------
# sendMessage and its limits
# ------------------------------------------------------------------------------------------------------------


def test_send_message_result_and_ids_per_chat(server, http):
    first = ok(http, server, "sendMessage", chat_id=42, text="Hello")
    second = ok(http, server, "sendMessage", chat_id=42, text="Again")
    other = ok(http, server, "sendMessage", chat_id=-55, text="Group")
    assert (first["message_id"], second["message_id"], other["message_id"]) == (1, 2, 1)
    assert first["from"] == {
        "id": 123456,
        "is_bot": True,
        "first_name": "Demo",
        "username": "demo_bot",
    }
    assert first["chat"]["id"] == 42 and first["chat"]["type"] == "private"
    assert other["chat"] == {"id": -55, "title": "Group 55", "type": "group"}
    assert abs(first["date"] - time.time()) < 5
    assert first["text"] == "Hello" and "reply_markup" not in first
    assert [m["text"] for m in server.sent_messages()] == ["Hello", "Again", "Group"]
    assert [m["text"] for m in server.sent_messages(chat_id=42)] == ["Hello", "Again"]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"chat_id": 1}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": "   "}, "Bad Request: message text is empty"),
        (
            {"chat_id": 1, "text": "<b></b>", "parse_mode": "HTML"},
            "Bad Request: message text is empty",
        ),
        ({"text": "hi"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "@nobody", "text": "hi"}, "Bad Request: chat not found"),
        (
            {"chat_id": 1, "text": "hi", "parse_mode": "Klingon"},
            "Bad Request: unsupported parse_mode",
        ),
    ],
)
def test_send_message_bad_requests(server, http, params, description):
    assert refused(http, server, "sendMessage", **params) == (
        400,
        {"ok": False, "error_code": 400, "description": description},
    )
    assert server.sent_messages() == []


def test_text_limit_4096(server, http):
    assert len(ok(http, server, "sendMessage", chat_id=1, text="x" * 4096)["text"]) == 4096
    assert refused(http, server, "sendMessage", chat_id=1, text="x" * 4097)[1]["description"] == (
        "Bad Request: message is too long"
    )
    # the limit applies to the text after entity parsing
    assert ok(
        http,
        server,
        "sendMessage",
        chat_id=1,
        text="<b>" + "x" * 4096 + "</b>",
        parse_mode="HTML",
    )


def test_callback_data_limit_64_bytes(server, http):
    def send(data):
        markup = {"inline_keyboard": [[{"text": "b", "callback_data": data}]]}
        return api(http, server, "sendMessage", chat_id=1, text="t", reply_markup=markup)

    assert send("x" * 64)[0] == 200
    assert send("x" * 65) == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: BUTTON_DATA_INVALID",
        },
    )
    assert send("é" * 33)[1]["description"] == "Bad Request: BUTTON_DATA_INVALID"  # 66 bytes, 33 chars


def test_inline_keyboard_validation(server, http):
    markup = {"inline_keyboard": [[{"text": "just text"}]]}
    assert refused(http, server, "sendMessage", chat_id=1, text="t", reply_markup=markup)[1][
        "description"
    ] == ("Bad Request: text buttons are unallowed in the inline keyboard")
    status, body = refused(http, server, "sendMessage", chat_id=1, text="t", reply_markup="{not json")
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


def test_reply_keyboard_is_accepted_but_not_echoed(server, http):
    markup = {
        "keyboard": [[{"text": "Share phone", "request_contact": True}]],
        "one_time_keyboard": True,
    }
    message = ok(http, server, "sendMessage", chat_id=1, text="t", reply_markup=markup)
    assert "reply_markup" not in message
    assert server.calls_for("sendMessage")[-1].params["reply_markup"] == markup


def test_message_thread_id_and_reply_are_echoed(server, http):
    first = ok(http, server, "sendMessage", chat_id=-77, text="root")
    reply = ok(
        http,
        server,
        "sendMessage",
        chat_id=-77,
        text="answer",
        message_thread_id=3,
        reply_parameters={"message_id": first["message_id"]},
    )
    assert reply["message_thread_id"] == 3
    assert "is_topic_message" not in reply
    assert reply["reply_to_message"]["message_id"] == first["message_id"]
    assert reply["reply_to_message"]["text"] == "root"


def test_strict_mode_refuses_unknown_reply_and_chat():
    with ft.FakeTelegram(strict=True) as srv, requests.Session() as http:
        http.trust_env = False
        srv.add_bot(TOKEN)
        srv.add_chat(7)
        body = refused(http, srv, "sendMessage", chat_id=8, text="x")[1]
        assert body["description"] == "Bad Request: chat not found"
        body = refused(
            http,
            srv,
            "sendMessage",
            chat_id=7,
            text="x",
            reply_parameters={"message_id": 99},
        )[1]
        assert body["description"] == "Bad Request: message to be replied not found"
        params = {"message_id": 99, "allow_sending_without_reply": True}
        assert ok(http, srv, "sendMessage", chat_id=7, text="x", reply_parameters=params)["message_id"] == 1


# ------------------------------------------------------------------------------------------------------------
# HTML parse mode
# ------------------------------------------------------------------------------------------------------------


def test_html_is_parsed_into_text_and_entities(server, http):
    text = (
        "<b>Bold</b> <i>it</i> &lt;tag&gt; &amp; "
        '<a href="https://example.com/?a=1&amp;b=2">link</a> <code>c</code>'
    )
    message = ok(http, server, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert message["text"] == "Bold it <tag> & link c"
    assert message["entities"] == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 5, "length": 2},
        {
            "type": "text_link",
            "offset": 16,
            "length": 4,
            "url": "https://example.com/?a=1&b=2",
        },
        {"type": "code", "offset": 21, "length": 1},
    ]
    assert server.calls[-1].params["text"] == text


def test_html_supports_telegrams_whole_tag_set(server, http):
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
        '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler><code>c</code>'
        '<pre><code class="language-python">x = 1</code></pre><blockquote>quote</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><a href="tg://user?id=42">m</a>'
    )
    message = ok(http, server, "sendMessage", chat_id=1, text=text, parse_mode="html")
    types = [e["type"] for e in message["entities"]]
    assert types == [
        "bold",
        "bold",
        "italic",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "spoiler",
        "spoiler",
        "code",
        "pre",
        "blockquote",
        "custom_emoji",
        "text_mention",
    ]
    pre = message["entities"][12]
    assert pre["language"] == "python" and pre["length"] == 5
    assert message["entities"][15]["user"]["id"] == 42
    assert message["text"].startswith("bsieunskdpqcx = 1quote")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>never closed", "Can't find end tag corresponding to start tag b"),
        (
            "<b>x</i>",
            'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
        ),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            '<tg-emoji emoji-id="x">y</tg-emoji>',
            "Invalid custom emoji identifier specified",
        ),
        ("Tom & Jerry", 'Character "&" must be escaped as "&amp;" at byte offset 4'),
    ],
)
def test_html_errors(server, http, text, error):
    status, body = refused(http, server, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert (status, body["description"]) == (
        400,
        f"Bad Request: can't parse entities: {error}",
    )


def test_parse_html_matches_tdlib_byte_offsets():
    cases = {
        "🏟 🏟&lt;<abacaba": "Unclosed start tag at byte offset 13",
        "🏟 🏟&lt;<abac aba>": 'Unsupported start tag "abac" at byte offset 13',
        "🏟 🏟&lt;<i   =aba>": 'Empty attribute name in the tag "i" at byte offset 13',
        "🏟 🏟&lt;<i    aba>": (
            'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13'
        ),
        "🏟 🏟&lt;<i    aba  =  ": 'Unclosed start tag "i" at byte offset 13',
        "🏟 🏟&lt;<i    aba  =  190azAz-.,": "Unexpected end of name token at byte offset 27",
        '🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>': "Unclosed start tag at byte offset 13",
        "🏟 🏟&lt;</": "Unexpected end tag at byte offset 13",
        "🏟 🏟&lt;<b></b></": "Unexpected end tag at byte offset 20",
    }
    for text, error in cases.items():
        with pytest.raises(ft.HtmlParseError) as caught:
            ft.parse_html(text)
        assert str(caught.value) == error, text
    assert ft.parse_html("🏟 <b>x</b>") == (
        "🏟 x",
        [{"type": "bold", "offset": 3, "length": 1}],
    )
    assert ft.parse_html("Tom & Jerry", strict_ampersand=False) == ("Tom & Jerry", [])


def test_markdown_is_passed_through(server, http):
    message = ok(
        http,
        server,
        "sendMessage",
        chat_id=1,
        text="*bold* a < b",
        parse_mode="MarkdownV2",
    )
    assert message["text"] == "*bold* a < b"
