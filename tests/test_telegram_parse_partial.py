"""The Telegram parser on updates python-telegram-bot cannot read whole (issue 14): a date past year 9999
makes the update malformed (failed at once, never retried); media without a field it requires (older
recordings of real updates have no ``file_unique_id``) are left out of the message, which keeps its text,
caption and other files and notes what could not be read.

Run: ``.venv/bin/python -m pytest -q -p no:cacheprovider tests/test_telegram_parse_partial.py``.
"""

import pytest
from telegram_tools_helpers import InboundFile, parse

USER = {"id": 42, "is_bot": False, "first_name": "Ada"}
OLD_PHOTO = [{"file_id": "AgAC-old", "width": 800, "height": 600, "file_size": 15}]  # no file_unique_id


def message_update(kind="message", **fields):
    body = {"message_id": 7, "date": 1700000000, "chat": {"id": 42, "type": "private"}, "from": USER}
    return {"update_id": 1000, kind: {**body, **fields}}


def note(field, mimetype):
    return InboundFile(name=field, mimetype=mimetype, error=f"The {field} of this message could not be read.")


def test_date_past_year_9999_is_malformed_not_an_overflow():
    with pytest.raises(ValueError, match=r"^malformed Telegram message update \(OverflowError\)$"):
        parse.parse_update(message_update(text="hi", date=2**63))


def test_photo_without_file_unique_id_keeps_the_caption_and_is_noted():
    [event] = parse.parse_update(message_update(photo=OLD_PHOTO, caption="my receipt"))
    assert (event.kind, event.text) == ("message", "my receipt")
    assert event.files == [note("photo", "image/jpeg")]


def test_photo_without_file_unique_id_and_without_caption_is_a_note():
    [event] = parse.parse_update(message_update(photo=OLD_PHOTO))
    assert event.text == ""
    assert event.files == [note("photo", "image/jpeg")]


def test_document_without_file_unique_id_is_noted_in_an_edit_too():
    document = {"file_id": "BQAC-old", "file_name": "invoice.pdf", "mime_type": "application/pdf"}
    [event] = parse.parse_update(
        message_update("edited_message", document=document, caption="the invoice", edit_date=1700000100)
    )
    assert (event.kind, event.text) == ("edit", "the invoice")
    assert event.files == [note("document", "application/octet-stream")]


def test_readable_sizes_of_a_photo_are_kept_without_a_note():
    sizes = [
        {"file_id": "AgAC-small", "file_unique_id": "AQADsmall", "width": 90, "height": 90, "file_size": 9},
        {"file_id": "AgAC-big", "width": 800, "height": 800},
    ]
    [event] = parse.parse_update(message_update(photo=sizes))
    assert event.files == [
        InboundFile(name="photo_AQADsmall.jpg", mimetype="image/jpeg", file_ref="AgAC-small", size=9)
    ]


def test_unreadable_media_of_the_replied_message_is_dropped_silently():
    replied = message_update(photo=OLD_PHOTO)["message"]
    [event] = parse.parse_update(message_update(text="about that photo", reply_to_message=replied))
    assert (event.text, event.files) == ("about that photo", [])


def test_a_message_unreadable_besides_its_media_is_still_malformed():
    with pytest.raises(ValueError, match=r"^malformed Telegram message update \(OverflowError\)$"):
        parse.parse_update(message_update(photo=OLD_PHOTO, date=2**63))


@pytest.mark.parametrize(
    "fields",
    [
        {"text": 5},
        {"text": ["a", "b"]},
        {"photo": OLD_PHOTO, "caption": {"x": 1}},
        {
            "venue": {
                "location": {"latitude": 50.4, "longitude": 30.5},
                "title": 7,
                "address": "Khreshchatyk 1",
            }
        },
    ],
)
def test_a_text_that_is_not_a_string_is_malformed(fields):
    """python-telegram-bot keeps what it is given: a number where Telegram sends a string made the dialog's
    text fail later, with a traceback in the worker's log."""
    with pytest.raises(ValueError, match=r"must be a string$"):
        parse.parse_update(message_update(**fields))
