"""The update parser (``tools/parse.py``) on realistic updates: callbacks, chat members, groups and
topics, ignored, unsupported and malformed updates, update keys.
"""

import traceback

import pytest
from telegram_tools_helpers import (
    ADA,
    FORUM,
    InboundEvent,
    SenderProfile,
    Thread,
    ft,
    message_update,
    parse,
    update,
)

# ------------------------------------------------------------------------------------------------------------
# parsing updates
# ------------------------------------------------------------------------------------------------------------


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
