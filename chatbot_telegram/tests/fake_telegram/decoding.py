"""Request decoding: multipart bodies and the parameters' types."""

# pylint: disable=except-pass

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .constants import BOOL_FIELDS, INT_FIELDS, JSON_FIELDS
from .records import UploadedFile, _ApiError


def _parse_header_params(value: str) -> tuple[str, dict]:
    main, _, rest = value.partition(";")
    params = {}
    for match in re.finditer(r'([\w*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', rest):
        key, val = match.group(1).lower(), match.group(2).strip()
        if val.startswith('"') and val.endswith('"') and len(val) >= 2:
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        if key.endswith("*") and "''" in val:
            key = key[:-1]
            val = urllib.parse.unquote(val.split("''", 1)[1])
        params[key] = val
    return main.strip().lower(), params


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict, dict]:
    _, ct_params = _parse_header_params(content_type)
    boundary = ct_params.get("boundary")
    if not boundary:
        raise _ApiError(400, "Bad Request: can't parse multipart/form-data: no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    body = b"\r\n" + body
    for chunk in body.split(b"\r\n" + delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        _, _, chunk = chunk.partition(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        _, disposition = _parse_header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            ctype = headers.get("content-type", "application/octet-stream")
            files[name] = UploadedFile(disposition["filename"], ctype, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _normalize_params(params: dict) -> dict:
    for key, value in list(params.items()):
        if key in JSON_FIELDS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
        elif key in INT_FIELDS and isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            params[key] = int(value)
        elif key in BOOL_FIELDS and isinstance(value, str):
            params[key] = value.strip().lower() in ("true", "1", "yes")
    return params


def _to_int(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        return 0


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
