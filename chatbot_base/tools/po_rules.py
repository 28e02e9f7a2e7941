"""What a translation must keep of its term. Plain Python (no Odoo import): tools/i18n_check.py loads this
file on its own to check .po files as the test TestTranslations does."""

import re

# What a translation must keep of its term: placeholders (%(name)s, %s, {position}), commands (/start)
# and markup tags.
KEPT_RE = re.compile(r"%\([a-z_]+\)[sdr]|%[sd]|\{[a-z_]+\}|(?<![\w/<])/[a-z_]+\b|</?[a-z]+[^>]*>")


def translation_problems(source, translation):
    """What is wrong with `translation` of `source`, as short sentences; empty when nothing is."""
    if not (translation or "").strip():
        return ["not translated"]
    found = []
    missing = [kept for kept in KEPT_RE.findall(source) if kept not in translation]
    if missing:
        found.append(f"loses {', '.join(missing)}")
    added = [kept for kept in KEPT_RE.findall(translation) if kept not in source and not kept.startswith("<")]
    if added:
        found.append(f"adds {', '.join(added)}")
    return found
