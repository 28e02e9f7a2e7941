"""The update parser (``tools/parse.py``) on realistic messages: text, commands, media, contacts, locations,
edits.
"""

import pytest
from telegram_tools_helpers import ADA, InboundEvent, InboundFile, ft, message_update, parse, update

# ------------------------------------------------------------------------------------------------------------
# parsing updates
# ------------------------------------------------------------------------------------------------------------


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
