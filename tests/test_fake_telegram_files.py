"""The fake Telegram server: photos, documents, albums, files."""

import json

import pytest
import requests
from fake_telegram_helpers import (
    TOKEN,
    TOKEN2,
    fixture_http,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    ft,
    ok,
    refused,
)

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
