"""Telegram's limits, the Bot API methods the fake answers, the parameters' types and the settings."""

import re

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
DOWNLOAD_LIMIT = 20 * 1024 * 1024
MEDIA_GROUP_MIN = 2
MEDIA_GROUP_MAX = 10
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
DEFAULT_USER_ID = 100001
FORUM_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

#: Methods that send messages: they count against the rate limits and are what ``fail_next(method=None)``
#: and ``block_chat`` act on.
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage"})
CHAT_STATE_METHODS = SEND_METHODS | {"sendChatAction", "editMessageText"}
NOOP_METHODS = tuple(
    [
        "deleteMyCommands",
        "setMyName",
        "setMyDescription",
        "setMyShortDescription",
        "setChatMenuButton",
        "pinChatMessage",
        "unpinChatMessage",
        "leaveChat",
        "setMessageReaction",
    ]
)
API_METHODS = (
    *[
        "getMe",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "getUpdates",
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "copyMessage",
        "editMessageText",
        "deleteMessage",
        "answerCallbackQuery",
        "sendChatAction",
        "getFile",
        "getUserProfilePhotos",
        "getChat",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "deleteForumTopic",
        "setMyCommands",
        "getMyCommands",
    ],
    *NOOP_METHODS,
)
_METHOD_NAMES = {name.lower(): name for name in API_METHODS}

CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "record_audio",
        "upload_audio",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
        "cancel",
    ]
)
UPDATE_TYPES_OFF_BY_DEFAULT = frozenset(["chat_member", "message_reaction", "message_reaction_count"])
MESSAGE_UPDATE_TYPES = tuple(
    ["message", "edited_message", "channel_post", "edited_channel_post", "business_message"]
)
SERVICE_MESSAGE_KEYS = frozenset(
    [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "group_chat_created",
        "supergroup_chat_created",
        "pinned_message",
    ]
)
COPYABLE_KEYS = tuple(
    [
        "text",
        "entities",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "video_note",
        "animation",
        "sticker",
        "contact",
        "location",
        "venue",
        "caption",
        "caption_entities",
    ]
)
JSON_FIELDS = frozenset(
    [
        "reply_markup",
        "media",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "menu_button",
        "reaction",
    ]
)
INT_FIELDS = frozenset(
    [
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "user_id",
        "icon_color",
        "reply_to_message_id",
        "cache_time",
    ]
)
BOOL_FIELDS = frozenset(
    [
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "drop_pending_updates",
        "show_alert",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    ]
)
INLINE_BUTTON_ACTIONS = tuple(
    [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ]
)
SETTINGS = tuple(
    [
        "global_rate",
        "global_window",
        "chat_rate",
        "chat_window",
        "chat_burst",
        "group_rate",
        "group_window",
        "paid_rate",
        "rate_tolerance",
        "rate_limits",
        "enforce_retry_after",
        "retry_delay",
        "delivery_timeout",
        "max_delivery_attempts",
        "delivery_threads",
        "strict",
        "strict_html",
        "require_https",
        "auto_register_bots",
        "verbose",
    ]
)
_RATE_SETTINGS = frozenset(SETTINGS[:10])
