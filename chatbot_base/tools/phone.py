"""Reading phone numbers the way customers and messengers write them."""

import re

import phonenumbers


def normalize_phone(number, region=None):
    """`number` in E.164 (+380...), or None when it is not a valid phone number.

    Messengers send numbers with or without "+"; a long run of digits is tried as international first, and a
    number without a country code is read as one of `region` (an ISO country code)."""
    raw = (number or "").strip()
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    candidates = [raw]
    if not raw.startswith("+") and len(digits) >= 10:
        candidates.insert(0, "+" + digits)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None
