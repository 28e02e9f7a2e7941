"""What the fake records (calls, webhook deliveries, uploads) and its internal state (bots, chats, files)."""

from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


class _Record:
    """Attribute access plus dict-style access (``call["method"]``, ``call.get("status")``)."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


@dataclass
class Call(_Record):
    """One API call as the fake received and answered it."""

    token: str
    method: str
    params: dict
    files: dict
    time: float
    status: int | None = None
    response: dict | None = None
    http_method: str = "POST"
    source: str = "http"
    hung: bool = False

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def as_dict(self) -> dict:
        return {
            "token": self.token,
            "method": self.method,
            "params": self.params,
            "files": {
                name: {
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                }
                for name, f in self.files.items()
            },
            "time": self.time,
            "status": self.status,
            "response": self.response,
            "http_method": self.http_method,
            "source": self.source,
            "hung": self.hung,
        }


@dataclass
class Delivery(_Record):
    """One attempt to POST an update to a webhook."""

    token: str
    update_id: int
    chat_id: Any
    attempt: int
    url: str
    status: int | None
    error: str | None
    time: float
    duration: float
    secret_token: str | None
    gave_up: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict:
        return _error(self.code, self.description, self.parameters)


@dataclass
class _Ok:
    result: Any
    description: str | None = None


@dataclass
class _Hang:
    seconds: float | None


@dataclass
class _File:
    token: str
    file_id: str
    file_unique_id: str
    content: bytes | None
    file_size: int
    file_path: str
    kind: str = "document"
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    photo_sizes: list | None = None

    def photo_size(self) -> dict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "width": self.width,
            "height": self.height,
        }


@dataclass
class _Chat:
    id: int
    info: dict
    is_forum: bool = False
    topics: dict = field(default_factory=dict)
    known: bool = True


@dataclass
class _Entry:
    update: dict
    update_id: int
    chat_key: Any
    attempts: int = 0
    next_attempt: float = 0.0
    in_flight: bool = False
    dropped: bool = False


@dataclass
class _Failure:
    method: str | None
    chat_id: Any
    kind: str
    remaining: int | None
    options: dict


@dataclass
class _Bot:
    token: str
    id: int
    username: str
    first_name: str
    next_update_id: int = 1
    pending: list = field(default_factory=list)
    webhook_url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    workers: list = field(default_factory=list)
    poll_gen: int = 0
    poll_conflict: str = ""
    global_log: deque = field(default_factory=deque)
    chat_buckets: dict = field(default_factory=dict)
    group_logs: dict = field(default_factory=dict)
    flood_until: dict = field(default_factory=dict)
    commands: list = field(default_factory=list)

    @property
    def user(self) -> dict:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


def _error(code: int, description: str, parameters: dict | None = None) -> dict:
    envelope = {"ok": False, "error_code": code, "description": description}
    if parameters:
        envelope["parameters"] = parameters
    return envelope
