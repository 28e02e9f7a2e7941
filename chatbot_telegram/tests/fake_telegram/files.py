"""Files: uploads and file ids, getFile, profile photos."""

import copy
import mimetypes
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from .constants import DOWNLOAD_LIMIT
from .decoding import _to_int
from .records import UploadedFile, _ApiError, _Bot, _File
from .updates import default_user


class FilesMixin:
    """FakeTelegram's files: uploads and file ids, getFile and downloads' paths, profile photos."""

    # --- world setup

    def add_file(
        self,
        token: str,
        content: bytes,
        file_path: str | None = None,
        file_size: int | None = None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> str:
        """Register a downloadable file for ``token``; returns its file_id (``file_size`` overrides the
        reported size, e.g. to simulate a 30 MB file)."""
        with self._cond:
            self._require_bot(token)
            f = self._register_file(token, content, "document", file_name=file_name, mime_type=mime_type)
            if file_path:
                self._file_paths.pop((token, f.file_path), None)
                f.file_path = file_path
                self._file_paths[(token, file_path)] = f.file_id
            if file_size is not None:
                f.file_size = file_size
            return f.file_id

    def set_profile_photos(self, token: str, user_id: int, photos: list[bytes]) -> list[str]:
        """Give ``user_id`` profile photos (as seen by ``token``); returns the file_id of each photo's
        largest size."""
        with self._cond:
            self._require_bot(token)
            result = []
            entries = []
            for content in photos:
                sizes = self._register_photo(token, content, sizes=((160, 160), (320, 320), (640, 640)))
                entries.append(sizes)
                result.append(sizes[-1]["file_id"])
            self._profile_photos[(token, int(user_id))] = entries
            self._users.setdefault(int(user_id), default_user(int(user_id)))
            return result

    # --- files

    def _new_file_ids(self, kind: str) -> tuple[str, str, int]:
        self._file_seq += 1
        prefix = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}.get(kind, "CQACAgIAAxkBAAI")
        tail = uuid.uuid4().hex[:16]
        return (
            f"{prefix}{self._file_seq:05d}{tail}",
            f"AQAD{self._file_seq:05d}{tail[:6]}",
            self._file_seq,
        )

    def _register_file(
        self,
        token: str,
        content: bytes | None,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_id: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> _File:
        new_id, unique_id, seq = self._new_file_ids(kind)
        folder = {
            "photo": "photos",
            "video": "videos",
            "audio": "music",
            "voice": "voice",
        }.get(kind, "documents")
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1][:8]
        elif kind == "photo":
            ext = ".jpg"
        if file_name and (not mime_type or mime_type == "application/octet-stream"):
            mime_type = mimetypes.guess_type(file_name)[0] or mime_type
        f = _File(
            token=token,
            file_id=file_id or new_id,
            file_unique_id=unique_id,
            content=content,
            file_size=len(content or b""),
            file_path=f"{folder}/file_{seq}{ext}",
            kind=kind,
            file_name=file_name,
            mime_type=mime_type or "application/octet-stream",
            width=width,
            height=height,
        )
        self._files[f.file_id] = f
        self._file_paths[(token, f.file_path)] = f.file_id
        return f

    def _register_photo(self, token: str, content: bytes | None, sizes=((90, 90), (800, 600))) -> list[dict]:
        files = [self._register_file(token, content, "photo", width=w, height=h) for w, h in sizes]
        photo_sizes = [f.photo_size() for f in files]
        for f in files:
            f.photo_sizes = photo_sizes
        return copy.deepcopy(photo_sizes)

    def _input_file(
        self, bot: _Bot, value: Any, upload: UploadedFile | None, files: dict, kind: str
    ) -> _File:
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        if upload is not None:
            if not upload.content:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            if kind == "photo":
                return self._files[self._register_photo(bot.token, upload.content)[-1]["file_id"]]
            return self._register_file(
                bot.token,
                upload.content,
                kind,
                file_name=upload.filename,
                mime_type=upload.content_type,
            )
        if value is None or value == "":
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        value = str(value)
        known = self._files.get(value)
        if known is not None and known.token == bot.token:
            return known
        if value.startswith(("http://", "https://")):
            if kind == "photo":
                return self._files[self._register_photo(bot.token, b"")[-1]["file_id"]]
            name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or None
            return self._register_file(bot.token, b"", kind, file_name=name)
        if self.strict:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return self._register_file(bot.token, None, kind, file_id=value)

    def _media_content(self, bot: _Bot, kind: str, f: _File) -> dict:
        if kind == "photo":
            return {"photo": copy.deepcopy(f.photo_sizes) if f.photo_sizes else [f.photo_size()]}
        body = {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.file_size,
        }
        if kind == "document":
            body = {
                "file_name": f.file_name or f.file_path.rsplit("/", 1)[-1],
                "mime_type": f.mime_type,
                **body,
            }
        elif kind == "video":
            body.update({"width": 640, "height": 360, "duration": 1})
        elif kind == "audio":
            body.update({"duration": 1})
            if f.file_name:
                body["file_name"] = f.file_name
        return {kind: body}

    # --- API methods

    def _api_getFile(self, bot: _Bot, p: dict, files: dict) -> dict:
        f = self._files.get(str(p.get("file_id") or ""))
        if f is None or f.token != bot.token or f.content is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if f.file_size > DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.file_size,
            "file_path": f.file_path,
        }

    def _api_getUserProfilePhotos(self, bot: _Bot, p: dict, files: dict) -> dict:
        user_id = _to_int(p.get("user_id"))
        if user_id <= 0:
            raise _ApiError(400, "Bad Request: invalid user_id specified")
        photos = self._profile_photos.get((bot.token, user_id))
        if photos is None and self.strict and user_id not in self._users:
            raise _ApiError(400, "Bad Request: user not found")
        photos = photos or []
        offset = max(_to_int(p.get("offset")), 0)
        limit = min(max(_to_int(p.get("limit"), 100), 1), 100)
        return {
            "total_count": len(photos),
            "photos": copy.deepcopy(photos[offset : offset + limit]),
        }
