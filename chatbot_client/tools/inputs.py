"""Reading what a customer typed at an input step: free text, e-mail, phone, number, date.

Pure functions (no ORM): each returns the normalised value, or None when the text is not one."""

import re
from datetime import date, datetime

from odoo.tools import email_normalize

from odoo.addons.chatbot_base.tools.phone import normalize_phone

INPUT_TYPES = [
    ("text", "Free text"),
    ("email", "E-mail"),
    ("phone", "Phone"),
    ("number", "Number"),
    ("date", "Date"),
]

# Day first before month first: the suite's customers write 21.11.2026 or 21/11/2026; ISO is unambiguous.
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y", "%d/%m/%y")
NUMBER_RE = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def read_text(text):
    text = (text or "").strip()
    return text or None


def read_email(text):
    return email_normalize((text or "").strip()) or None


def read_phone(text, region=None):
    """E.164 (+380...) of a valid number; `region` (ISO code) reads numbers written without a country
    code."""
    return normalize_phone(text, region)


def read_number(text):
    """A float from "12", "12.5", "12,5", "1 200" or "1 200,50"; None otherwise."""
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", (text or "").strip())
    if not NUMBER_RE.fullmatch(cleaned):
        return None
    return float(cleaned.replace(",", "."))


def read_date(text, lang_format=None):
    """A date from ISO (2026-11-21), day-first forms (21.11.2026, 21/11/2026) or the customer's language's
    format; None otherwise."""
    raw = (text or "").strip()
    if not raw:
        return None
    formats = (*DATE_FORMATS, lang_format) if lang_format else DATE_FORMATS
    for fmt in formats:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def read_input(input_type, text, region=None, lang_format=None):
    """The normalised value of `text` for `input_type`, or None when it is not valid."""
    if input_type == "email":
        return read_email(text)
    if input_type == "phone":
        return read_phone(text, region)
    if input_type == "number":
        return read_number(text)
    if input_type == "date":
        return read_date(text, lang_format)
    return read_text(text)


def display(value):
    """How a captured value reads in texts and in the lead's description."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    return str(value)
