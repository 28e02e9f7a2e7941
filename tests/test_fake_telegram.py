"""Tests of the fake Telegram Bot API server (``chatbot_telegram/tests/fake_telegram/``).

Run from the repository root: ``python -m pytest -q tests/test_fake_telegram.py -p no:cacheprovider``.
The server package lives inside an Odoo addon, which is not an importable package here, so it is loaded
from its folder. Every test talks to a real server over HTTP (``requests`` with proxies ignored); webhook
tests run a tiny local HTTP server as the bot's webhook. Rate-limit tests use short windows to stay fast.
"""

import importlib.util
import json
import pathlib
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

PACKAGE_PATH = pathlib.Path(__file__).resolve().parents[1] / "chatbot_telegram" / "tests" / "fake_telegram"


def _load_module():
    spec = importlib.util.spec_from_file_location(
        "fake_telegram_under_test",
        PACKAGE_PATH / "__init__.py",
        submodule_search_locations=[str(PACKAGE_PATH)],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its modules import each other relatively, through sys.modules
    spec.loader.exec_module(module)
    return module


ft = _load_module()

TOKEN = "123456:TEST-token_abc"
TOKEN2 = "654321:OTHER-token"
SUPERGROUP = -1001234567890
FORUM = -1009999999999


# ------------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def server():
    with ft.FakeTelegram(retry_delay=0.05, delivery_timeout=2.0, max_delivery_attempts=3) as srv:
        srv.add_bot(TOKEN)
        yield srv


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # never send 127.0.0.1 through an environment proxy
    yield session
    session.close()


def api(http, server, method, token=TOKEN, **params):
    """POST a JSON call; returns (HTTP status, decoded envelope)."""
    response = http.post(f"{server.base_url}/bot{token}/{method}", json=params, timeout=10)
    return response.status_code, response.json()


def ok(http, server, method, token=TOKEN, **params):
    status, body = api(http, server, method, token, **params)
    assert status == 200, body
    assert body["ok"] is True
    return body["result"]


def refused(http, server, method, token=TOKEN, **params):
    status, body = api(http, server, method, token, **params)
    assert body["ok"] is False
    assert status == body["error_code"]
    return status, body


def paced_sends(http, server, count, interval, chat_for, **extra):
    """Send ``count`` messages on an absolute schedule of one per ``interval`` seconds."""
    statuses = []
    start = time.monotonic() + 0.02
    for i in range(count):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        status, _ = api(http, server, "sendMessage", chat_id=chat_for(i), text=f"m{i}", **extra)
        statuses.append(status)
    return statuses


class Webhook:
    """A tiny webhook receiver: records every request and answers what ``responder(update, attempt)``
    returns: a status, or ``(status, delay_seconds, body_bytes)``."""

    def __init__(self, responder=None):
        self.responder = responder
        self.hits = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                received = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                update = json.loads(body)
                with hook.lock:
                    attempt = 1 + sum(1 for h in hook.hits if h["update"]["update_id"] == update["update_id"])
                    hit = {
                        "update": update,
                        "headers": dict(self.headers),
                        "received": received,
                        "attempt": attempt,
                    }
                    hit["path"] = self.path
                    hook.hits.append(hit)
                answer = hook.responder(update, attempt) if hook.responder else 200
                status, delay, reply = answer if isinstance(answer, tuple) else (answer, 0, b"")
                if delay:
                    time.sleep(delay)
                hit["answered"] = time.monotonic()
                hit["status"] = status
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json" if reply else "text/plain")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def texts(self):
        with self.lock:
            return [(h["update"]["message"]["text"], h["attempt"]) for h in self.hits]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook_factory():
    hooks = []

    def make(responder=None):
        hook = Webhook(responder)
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


# ------------------------------------------------------------------------------------------------------------
# photos, documents, albums, files
# ------------------------------------------------------------------------------------------------------------


def test_send_photo_multipart_and_download(server, http):
    response = http.post(
        f"{server.base_url}/bot{TOKEN}/sendPhoto",
        data={"chat_id": "42", "caption": "<b>Look</b>", "parse_mode": "HTML"},
        files={"photo": ("cat.jpg", b"JPEG-BYTES", "image/jpeg")},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    message = response.json()["result"]
    assert [(p["width"], p["height"], p["file_size"]) for p in message["photo"]] == [
        (90, 90, 10),
        (800, 600, 10),
    ]
    assert message["caption"] == "Look"
    assert message["caption_entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    call = server.calls[-1]
    assert "photo" not in call.params
    assert (call.files["photo"].filename, call.files["photo"].content) == (
        "cat.jpg",
        b"JPEG-BYTES",
    )
    largest = message["photo"][-1]
    info = ok(http, server, "getFile", file_id=largest["file_id"])
    assert info["file_id"] == largest["file_id"] and info["file_size"] == 10
    assert info["file_path"].startswith("photos/") and info["file_path"].endswith(".jpg")
    download = http.get(f"{server.base_url}/file/bot{TOKEN}/{info['file_path']}", timeout=5)
    assert (download.status_code, download.content) == (200, b"JPEG-BYTES")


def test_send_photo_by_file_id_reuses_the_sizes(server, http):
    response = http.post(
        f"{server.base_url}/bot{TOKEN}/sendPhoto",
        data={"chat_id": "1"},
        files={"photo": ("a.png", b"PNG", "image/png")},
        timeout=5,
    )
    sizes = response.json()["result"]["photo"]
    again = ok(http, server, "sendPhoto", chat_id=2, photo=sizes[-1]["file_id"])
    assert again["photo"] == sizes


def test_photo_errors_and_caption_limit(server, http):
    assert (
        refused(http, server, "sendPhoto", chat_id=1)[1]["description"]
        == "Bad Request: there is no photo in the request"
    )
    url = "https://example.com/a.jpg"
    assert ok(http, server, "sendPhoto", chat_id=1, photo=url, caption="c" * 1024)["caption"] == "c" * 1024
    status, body = refused(http, server, "sendPhoto", chat_id=1, photo=url, caption="c" * 1025)
    assert (status, body["description"]) == (
        400,
        "Bad Request: message caption is too long",
    )
    response = http.post(
        f"{server.base_url}/bot{TOKEN}/sendPhoto",
        data={"chat_id": "1"},
        files={"photo": ("e.jpg", b"")},
        timeout=5,
    )
    assert response.json()["description"] == "Bad Request: file must be non-empty"


def test_send_document_multipart(server, http):
    response = http.post(
        f"{server.base_url}/bot{TOKEN}/sendDocument",
        data={"chat_id": "42", "caption": "report"},
        files={"document": ("report.pdf", b"%PDF-1.4 data")},
        timeout=5,
    )
    message = response.json()["result"]
    document = message["document"]
    assert (document["file_name"], document["mime_type"], document["file_size"]) == (
        "report.pdf",
        "application/pdf",
        13,
    )
    assert message["caption"] == "report"
    again = ok(http, server, "sendDocument", chat_id=43, document=document["file_id"])
    assert again["document"] == document
    assert refused(http, server, "sendDocument", chat_id=1)[1]["description"] == (
        "Bad Request: there is no document in the request"
    )


def test_strict_mode_refuses_unknown_file_ids():
    with ft.FakeTelegram(strict=True) as srv, requests.Session() as http:
        http.trust_env = False
        srv.add_bot(TOKEN)
        srv.add_chat(1)
        body = refused(http, srv, "sendDocument", chat_id=1, document="BQACnope")[1]
        assert body["description"] == "Bad Request: wrong file identifier/HTTP URL specified"


def test_send_media_group_multipart(server, http):
    media = [
        {"type": "photo", "media": "attach://one", "caption": "first"},
        {"type": "photo", "media": "attach://two"},
        {"type": "photo", "media": "https://example.com/three.jpg"},
    ]
    response = http.post(
        f"{server.base_url}/bot{TOKEN}/sendMediaGroup",
        data={"chat_id": "42", "media": json.dumps(media)},
        files={
            "one": ("1.jpg", b"111", "image/jpeg"),
            "two": ("2.jpg", b"2222", "image/jpeg"),
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    messages = response.json()["result"]
    assert [m["message_id"] for m in messages] == [1, 2, 3]
    assert len({m["media_group_id"] for m in messages}) == 1
    assert [m.get("caption") for m in messages] == ["first", None, None]
    assert [m["photo"][-1]["file_size"] for m in messages] == [3, 4, 0]
    assert server.calls[-1].params["media"] == media
    assert len(server.sent_messages(chat_id=42)) == 3


@pytest.mark.parametrize(
    ("media", "description"),
    [
        (
            [{"type": "photo", "media": "https://e.x/1.jpg"}],
            "Bad Request: media must include 2-10 items",
        ),
        (
            [{"type": "photo", "media": "https://e.x/1.jpg"}] * 11,
            "Bad Request: too many messages to send as an album",
        ),
        (
            [
                {"type": "photo", "media": "https://e.x/1.jpg"},
                {"type": "document", "media": "https://e.x/2.pdf"},
            ],
            "Bad Request: can't use the media of the specified type in the album",
        ),
        (
            [{"type": "photo", "media": "attach://missing"}] * 2,
            "Bad Request: there is no photo in the request",
        ),
        ("not a list", "Bad Request: expected an Array of InputMedia"),
    ],
)
def test_send_media_group_errors(server, http, media, description):
    assert refused(http, server, "sendMediaGroup", chat_id=1, media=media)[1]["description"] == description


def test_get_file_and_download(server, http):
    file_id = server.add_file(TOKEN, b"hello file", file_path="documents/hello.txt")
    info = ok(http, server, "getFile", file_id=file_id)
    assert info == {
        "file_id": file_id,
        "file_unique_id": info["file_unique_id"],
        "file_size": 10,
        "file_path": "documents/hello.txt",
    }
    response = http.get(server.file_url(TOKEN, "documents/hello.txt"), timeout=5)
    assert (response.status_code, response.content) == (200, b"hello file")
    server.add_bot(TOKEN2)
    assert http.get(server.file_url(TOKEN2, "documents/hello.txt"), timeout=5).status_code == 404
    assert http.get(server.file_url(TOKEN, "documents/nothing.txt"), timeout=5).status_code == 404
    assert (
        refused(http, server, "getFile", TOKEN2, file_id=file_id)[1]["description"]
        == "Bad Request: invalid file_id"
    )
    assert (
        refused(http, server, "getFile", file_id="nope")[1]["description"] == "Bad Request: invalid file_id"
    )


def test_get_file_over_20_mb_is_too_big(server, http):
    at_limit = server.add_file(TOKEN, b"x", file_size=20 * 1024 * 1024)
    too_big = server.add_file(TOKEN, b"x", file_size=20 * 1024 * 1024 + 1)
    assert ok(http, server, "getFile", file_id=at_limit)["file_size"] == 20 * 1024 * 1024
    assert refused(http, server, "getFile", file_id=too_big) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"},
    )


def test_get_user_profile_photos(server, http):
    file_ids = server.set_profile_photos(TOKEN, 42, [b"first", b"second!"])
    result = ok(http, server, "getUserProfilePhotos", user_id=42)
    assert result["total_count"] == 2
    assert [[s["width"] for s in photo] for photo in result["photos"]] == [
        [160, 320, 640],
        [160, 320, 640],
    ]
    assert [photo[-1]["file_id"] for photo in result["photos"]] == file_ids
    page = ok(http, server, "getUserProfilePhotos", user_id=42, offset=1, limit=1)
    assert page["total_count"] == 2 and [p[-1]["file_id"] for p in page["photos"]] == file_ids[1:]
    path = ok(http, server, "getFile", file_id=file_ids[1])["file_path"]
    assert http.get(server.file_url(TOKEN, path), timeout=5).content == b"second!"
    assert ok(http, server, "getUserProfilePhotos", user_id=77) == {
        "total_count": 0,
        "photos": [],
    }
    assert (
        refused(http, server, "getUserProfilePhotos")[1]["description"]
        == "Bad Request: invalid user_id specified"
    )
    server.configure(strict=True)
    assert (
        refused(http, server, "getUserProfilePhotos", user_id=77)[1]["description"]
        == "Bad Request: user not found"
    )


# ------------------------------------------------------------------------------------------------------------
# copy, edit, delete, callbacks, chat actions, misc methods
# ------------------------------------------------------------------------------------------------------------


def test_copy_message_of_a_user_message(server, http):
    update = server.push_message(TOKEN, 42, "from the customer")
    source_id = update["message"]["message_id"]
    result = ok(
        http,
        server,
        "copyMessage",
        chat_id=SUPERGROUP,
        from_chat_id=42,
        message_id=source_id,
    )
    assert result == {"message_id": 1}
    copied = server.sent_messages(chat_id=SUPERGROUP)[0]
    assert copied["text"] == "from the customer"
    assert copied["from"]["id"] == 123456 and copied["chat"]["type"] == "supergroup"


def test_copy_message_of_a_photo_replaces_caption(server, http):
    update = server.make_message_update(
        42, None, photo=[{"file_id": "AgAC1", "file_unique_id": "u", "width": 1}]
    )
    update["message"]["caption"] = "old"
    server.push_update(TOKEN, update)
    message_id = update["message"]["message_id"]
    ok(
        http,
        server,
        "copyMessage",
        chat_id=-5,
        from_chat_id=42,
        message_id=message_id,
        caption="new",
    )
    copied = server.sent_messages(chat_id=-5)[0]
    assert copied["photo"] == update["message"]["photo"] and copied["caption"] == "new"


def test_copy_message_errors(server, http):
    body = refused(http, server, "copyMessage", chat_id=1, message_id=1)[1]
    assert body["description"] == 'Bad Request: parameter "from_chat_id" is required'
    body = refused(http, server, "copyMessage", chat_id=1, from_chat_id=2)[1]
    assert body["description"] == "Bad Request: message to copy not found"
    server.add_chat(FORUM, type="supergroup", is_forum=True)
    topic = ok(http, server, "createForumTopic", chat_id=FORUM, name="T")
    body = refused(
        http,
        server,
        "copyMessage",
        chat_id=1,
        from_chat_id=FORUM,
        message_id=topic["message_thread_id"],
    )[1]
    assert body["description"] == "Bad Request: message can't be copied"
    server.configure(strict=True)
    body = refused(http, server, "copyMessage", chat_id=1, from_chat_id=2, message_id=3)[1]
    assert body["description"] == "Bad Request: message to copy not found"


def test_edit_message_text(server, http):
    sent = ok(http, server, "sendMessage", chat_id=42, text="v1")
    markup = {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]}
    edited = ok(
        http,
        server,
        "editMessageText",
        chat_id=42,
        message_id=sent["message_id"],
        text="<i>v2</i>",
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert (edited["message_id"], edited["text"], edited["reply_markup"]) == (
        sent["message_id"],
        "v2",
        markup,
    )
    assert edited["entities"] == [{"type": "italic", "offset": 0, "length": 2}]
    assert isinstance(edited["edit_date"], int)
    assert server.get_message(42, sent["message_id"])["text"] == "v2"
    assert server.sent_messages(chat_id=42)[0]["text"] == "v1"
    body = refused(
        http,
        server,
        "editMessageText",
        chat_id=42,
        message_id=sent["message_id"],
        text="<i>v2</i>",
        parse_mode="HTML",
        reply_markup=markup,
    )[1]
    assert body["description"] == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    assert ok(http, server, "editMessageText", inline_message_id="AAA", text="x") is True


def test_edit_message_text_errors(server, http):
    user_message = server.push_message(TOKEN, 42, "mine")["message"]
    body = refused(
        http,
        server,
        "editMessageText",
        chat_id=42,
        message_id=user_message["message_id"],
        text="x",
    )[1]
    assert body["description"] == "Bad Request: message can't be edited"
    photo = ok(http, server, "sendPhoto", chat_id=42, photo="https://e.x/p.jpg")
    body = refused(
        http,
        server,
        "editMessageText",
        chat_id=42,
        message_id=photo["message_id"],
        text="x",
    )[1]
    assert body["description"] == "Bad Request: there is no text in the message to edit"
    body = refused(http, server, "editMessageText", chat_id=42, message_id=1)[1]
    assert body["description"] == "Bad Request: message text is empty"
    body = refused(http, server, "editMessageText", text="x")[1]
    assert body["description"] == "Bad Request: message identifier is not specified"
    server.configure(strict=True)
    body = refused(http, server, "editMessageText", chat_id=42, message_id=999, text="x")[1]
    assert body["description"] == "Bad Request: message to edit not found"


def test_delete_message(server, http):
    sent = ok(http, server, "sendMessage", chat_id=1, text="bye")
    assert ok(http, server, "deleteMessage", chat_id=1, message_id=sent["message_id"]) is True
    assert server.get_message(1, sent["message_id"]) is None
    server.configure(strict=True)
    body = refused(http, server, "deleteMessage", chat_id=1, message_id=sent["message_id"])[1]
    assert body["description"] == "Bad Request: message to delete not found"


def test_answer_callback_query(server, http):
    sent = ok(
        http,
        server,
        "sendMessage",
        chat_id=42,
        text="Pick",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    update = server.make_callback_update(42, "a", sent["message_id"])
    assert update["callback_query"]["message"]["reply_markup"] == sent["reply_markup"]
    pushed = server.push_update(TOKEN, update)
    query_id = pushed["callback_query"]["id"]
    assert ok(http, server, "answerCallbackQuery", callback_query_id=query_id, text="Done") is True
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert (
        refused(http, server, "answerCallbackQuery", callback_query_id=query_id)[1]["description"] == too_old
    )
    assert refused(http, server, "answerCallbackQuery")[1]["description"] == too_old
    assert ok(http, server, "answerCallbackQuery", callback_query_id="never-pushed") is True
    server.configure(strict=True)
    assert (
        refused(http, server, "answerCallbackQuery", callback_query_id="never-pushed")[1]["description"]
        == too_old
    )


def test_send_chat_action(server, http):
    assert ok(http, server, "sendChatAction", chat_id=1, action="typing") is True
    body = refused(http, server, "sendChatAction", chat_id=1, action="dancing")[1]
    assert body["description"] == "Bad Request: wrong parameter action in request"
    assert (
        refused(http, server, "sendChatAction", action="typing")[1]["description"]
        == "Bad Request: chat_id is empty"
    )


def test_get_chat_and_commands(server, http):
    server.add_chat(-100555, type="supergroup", title="Operators", username="ops")
    chat = ok(http, server, "getChat", chat_id="@ops")
    assert (chat["id"], chat["title"], chat["type"]) == (
        -100555,
        "Operators",
        "supergroup",
    )
    commands = [{"command": "start", "description": "Start"}]
    assert ok(http, server, "setMyCommands", commands=commands) is True
    assert ok(http, server, "getMyCommands") == commands


# ------------------------------------------------------------------------------------------------------------
# forum topics
# ------------------------------------------------------------------------------------------------------------


def test_forum_topic_lifecycle(server, http):
    server.add_chat(FORUM, type="supergroup", is_forum=True, title="Support")
    topic = ok(http, server, "createForumTopic", chat_id=FORUM, name="Ada Lovelace")
    assert topic == {
        "message_thread_id": 1,
        "name": "Ada Lovelace",
        "icon_color": 7322096,
    }
    second = ok(http, server, "createForumTopic", chat_id=FORUM, name="Bob", icon_color=16766590)
    assert second == {"message_thread_id": 2, "name": "Bob", "icon_color": 16766590}
    message = ok(http, server, "sendMessage", chat_id=FORUM, text="hi", message_thread_id=1)
    assert (
        message["message_id"],
        message["message_thread_id"],
        message["is_topic_message"],
    ) == (3, 1, True)
    assert message["reply_to_message"]["forum_topic_created"] == {
        "name": "Ada Lovelace",
        "icon_color": 7322096,
    }
    assert message["chat"]["is_forum"] is True
    assert (
        ok(
            http,
            server,
            "editForumTopic",
            chat_id=FORUM,
            message_thread_id=1,
            name="Ada (VIP)",
        )
        is True
    )
    assert ok(http, server, "closeForumTopic", chat_id=FORUM, message_thread_id=1) is True
    assert server.topics(FORUM)[1] == {
        "message_thread_id": 1,
        "name": "Ada (VIP)",
        "icon_color": 7322096,
        "closed": True,
    }
    assert ok(http, server, "reopenForumTopic", chat_id=FORUM, message_thread_id=1) is True
    assert server.topics(FORUM)[1]["closed"] is False
    not_modified = "Bad Request: TOPIC_NOT_MODIFIED"
    assert (
        refused(http, server, "reopenForumTopic", chat_id=FORUM, message_thread_id=1)[1]["description"]
        == not_modified
    )
    body = refused(
        http,
        server,
        "editForumTopic",
        chat_id=FORUM,
        message_thread_id=1,
        name="Ada (VIP)",
    )[1]
    assert body["description"] == not_modified
    assert ok(http, server, "deleteForumTopic", chat_id=FORUM, message_thread_id=2) is True
    assert sorted(server.topics(FORUM)) == [1]


@pytest.mark.parametrize(
    "method",
    ["createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic"],
)
def test_forum_methods_need_a_forum(server, http, method):
    status, body = refused(http, server, method, chat_id=SUPERGROUP, name="x", message_thread_id=5)
    assert (status, body["description"]) == (
        400,
        "Bad Request: the chat is not a forum",
    )


@pytest.mark.parametrize(
    "method",
    ["editForumTopic", "closeForumTopic", "reopenForumTopic", "deleteForumTopic"],
)
def test_forum_unknown_topic(server, http, method):
    server.add_chat(FORUM, type="supergroup", is_forum=True)
    status, body = refused(http, server, method, chat_id=FORUM, message_thread_id=77, name="x")
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_ID_INVALID")


def test_forum_other_errors(server, http):
    server.add_chat(FORUM, type="supergroup", is_forum=True)
    body = refused(http, server, "sendMessage", chat_id=FORUM, text="x", message_thread_id=77)[1]
    assert body["description"] == "Bad Request: message thread not found"
    assert refused(http, server, "createForumTopic", chat_id=FORUM)[1]["description"] == (
        "Bad Request: title must be non-empty"
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
