"""The connector interface: the seam between the Bots core and a messenger.

A connector addon (chatbot_telegram, ...) subclasses :class:`Connector`, registers it by overriding
``chatbot.channel._chatbot_connector_classes()``, and turns the messenger's raw updates into
:class:`InboundEvent` objects and :class:`OutboundMessage` objects into API calls. The core never
speaks a messenger's protocol; errors of the messenger's API are mapped to the exceptions below, and
the outbound queue reacts to each kind the same way whatever the messenger.
"""

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Inbound
# ---------------------------------------------------------------------------------------------

EVENT_KINDS = (
    "message",  # a customer's message: text, files, contact, location, command
    "edit",  # an edit of a message already received (message_id names it)
    "button",  # a pressed button (button_data)
    "blocked",  # the customer blocked the bot
    "unblocked",  # the customer unblocked it
)


@dataclass
class SenderProfile:
    """Who wrote, as the messenger describes them."""

    external_id: str
    name: str = ""
    username: str = ""
    lang: str = ""
    phone: str = ""
    email: str = ""
    is_bot: bool = False
    photo: bytes | None = None  # the profile picture, when the connector downloaded it


@dataclass
class InboundFile:
    """A file attached to an inbound message; `data` is filled when the connector downloaded it. `error`
    says why it is missing instead (too big, gone, unreadable): the message keeps the rest and notes it."""

    name: str
    mimetype: str = "application/octet-stream"
    file_ref: str = ""
    size: int = 0
    data: bytes | None = None
    error: str = ""


@dataclass
class Thread:
    """Where a message lives in an operators' group: the group's chat and, in a forum, its topic."""

    chat_id: str
    thread_id: str = ""
    reply_to_message_id: str = ""


@dataclass
class InboundEvent:
    """One normalised event of one chat."""

    kind: str
    chat_id: str
    sender: SenderProfile | None = None
    message_id: str = ""
    text: str = ""
    command: str = ""
    command_args: str = ""
    button_data: str = ""
    callback_id: str = ""
    files: list[InboundFile] = field(default_factory=list)
    contact_phone: str = ""
    location: tuple[float, float] | None = None
    thread: Thread | None = None
    is_group: bool = False

    def __post_init__(self):
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}")


# ---------------------------------------------------------------------------------------------
# Outbound
# ---------------------------------------------------------------------------------------------


@dataclass
class Button:
    """A button: `data` comes back as an InboundEvent's button_data; `url` opens a link;
    `request_phone` (reply keyboards only) asks the messenger to share the customer's phone number."""

    label: str
    data: str = ""
    url: str = ""
    request_phone: bool = False


OUTBOUND_KINDS = (
    "send",  # a message: text, files, buttons (reply_to_message_id: as a reply; thread_id: in a topic)
    "edit",  # new text or inline buttons for the message edit_message_id, sent before
    "copy",  # the customer's message copy_message_id of chat copy_from_chat_id, media as they were, `text`
    #          replacing its caption when given; refused, `fallback_text` and the files go instead
    "topic_create",  # a forum topic named `text` in the chat; the row's result is the topic's thread id
    "topic_rename",  # the topic thread_id gets the name `text`
    "topic_close",  # the topic thread_id is closed
    "topic_reopen",  # and reopened
    "answer",  # the answer to the pressed button callback_id: it stops the button's spinner
)


@dataclass
class OutboundMessage:
    """One effect on one chat of a messenger, of one of OUTBOUND_KINDS: every call the suite makes to a
    messenger (but an administrator's Connect and checks) is one, serialised as JSON in the outbound queue.

    `thread_from` names an earlier row of the same chat whose result is the thread (a topic created by a
    topic_create row): the queue sends in the chat's order, so that row is done when this one is due, and
    fills `thread_id` with its result; when it failed, `thread_id` stays empty and a send or copy goes out of
    any thread with `fallback_text` (e.g. naming the customer, as the topic would have); a message without one
    is cancelled."""

    chat_id: str
    text: str = ""
    kind: str = "send"
    buttons: list[list[Button]] = field(default_factory=list)
    keyboard: list[list[Button]] = field(default_factory=list)
    remove_keyboard: bool = False
    attachment_ids: list[int] = field(default_factory=list)
    thread_id: str = ""
    thread_from: int = 0
    fallback_text: str = ""
    edit_message_id: str = ""
    reply_to_message_id: str = ""
    copy_from_chat_id: str = ""
    copy_message_id: str = ""
    callback_id: str = ""

    def __post_init__(self):
        if self.kind not in OUTBOUND_KINDS:
            raise ValueError(f"unknown outbound kind {self.kind!r}")

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        for key in ("buttons", "keyboard"):
            values[key] = [[Button(**button) for button in row] for row in values.get(key) or []]
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


@dataclass
class RateLimits:
    """How fast a channel may send: messages per second overall and per chat, per minute per group."""

    per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0


# ---------------------------------------------------------------------------------------------
# Errors a connector raises; the queues react to each kind
# ---------------------------------------------------------------------------------------------


class ConnectorError(Exception):
    """A permanent failure: the message is marked failed with this reason, never retried."""


class UnsupportedEvent(ConnectorError):
    """An update the suite does not handle: stored as ignored."""


class MalformedEvent(ConnectorError):
    """An update that cannot be read (missing or wrongly typed fields): stored as failed, not retried. A
    connector keeps what it can of a message rather than raise: a file it cannot read becomes an
    InboundFile with an `error` and no data, and the text, caption and other files go on."""


class TransientError(ConnectorError):
    """A network error, a timeout or a 5xx: retried with back-off. Inbound, it is one of the few failures
    retried (see chatbot.inbound's TRANSIENT_ERRORS; any other error fails the update at once), and the
    chat's later updates wait for it only a short while (`chatbot_base.inbound_hold_seconds`)."""


class RetryLater(ConnectorError):
    """The messenger asks to wait `retry_after` seconds, for one chat or for the whole channel."""

    def __init__(self, message, retry_after, scope="channel"):
        super().__init__(message)
        self.retry_after = max(float(retry_after), 0.0)
        self.scope = scope


class RecipientBlocked(ConnectorError):
    """The recipient blocked the bot or cannot be reached: stop sending to them."""


class ChatMigrated(ConnectorError):
    """The chat moved to a new id (a group upgraded to a supergroup): store it and send again."""

    def __init__(self, message, new_chat_id):
        super().__init__(message)
        self.new_chat_id = str(new_chat_id)


class Connector:
    """Base class of a messenger connector, bound to one `chatbot.channel` record."""

    provider = None
    label = None

    def __init__(self, channel):
        self.channel = channel
        self.env = channel.env

    def event_key(self, payload):
        """(external_id, chat_key) of a raw update: the id that makes storing it idempotent and the
        chat whose updates must be processed in order."""
        raise NotImplementedError

    def parse(self, payload):
        """The normalised events of a raw update (a list, maybe empty), or UnsupportedEvent."""
        raise NotImplementedError

    # the kinds of OutboundMessage this messenger can carry out; the others fail with a clear reason
    kinds = frozenset({"send"})
    # the longest text of one message, and of a file's caption (None: no limit); a longer text is split
    text_limit = None
    caption_limit = None

    def send(self, message):
        """Carry out an OutboundMessage of one of `kinds` (the queue refuses the others); return its result
        (the messenger's id of the message sent, of the topic created; "" when there is none) or raise a
        ConnectorError. Called by the outbound queue only."""
        raise NotImplementedError

    def unsupported(self, message):
        """The error of a message of a kind this messenger cannot carry out."""
        return ConnectorError(f"{self.label or self.provider}: cannot {message.kind}")

    def paced(self, message):
        """Whether `message` counts against the chat's rate limits (a message in the chat does; a button's
        answer does not)."""
        return True

    def rate_limits(self):
        return RateLimits()

    def is_group_chat(self, chat_id):
        """Whether the chat is a group (slower limits apply)."""
        return False

    def profile_photo(self, profile):
        """The picture of a messenger profile (bytes), fetched when a partner is created for it, or None."""
        return None

    @contextmanager
    def working(self, chat_key):
        """Wraps the work on one update of the chat `chat_key` (downloads, the dialog's handler): a
        connector may show the customer that the bot is busy (Telegram: "typing..." when it takes more than
        a moment). Never raises."""
        yield

    def acknowledgement(self, event):
        """The OutboundMessage that answers `event` on the messenger (Telegram: a pressed button's answer),
        queued before the event is processed, or None."""
        return None
