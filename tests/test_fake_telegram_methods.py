"""The fake Telegram server: copy, edit, delete, callbacks, chat actions, other methods, forum topics."""

import pytest
from fake_telegram_helpers import (
    FORUM,
    SUPERGROUP,
    TOKEN,
    fixture_http,  # noqa: F401 (a fixture: the tests request it by name)
    fixture_server,  # noqa: F401 (a fixture: the tests request it by name)
    ok,
    refused,
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
