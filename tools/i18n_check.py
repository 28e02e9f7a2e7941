"""Check translation files: every term translated, and a translation keeps the term's placeholders
(%(name)s, %s, {position}), commands (/start) and markup tags.

    .venv/bin/python tools/i18n_check.py chatbot_base/i18n/uk.po [more.po ...]

Prints each problem and exits 1 when there is one. The Odoo test TestTranslations runs the same checks
(`problems`) on a template exported in the test database.
"""

import re
import sys

import polib

PLACEHOLDER_RE = re.compile(r"%\([a-z_]+\)[sdr]|%[sd]|\{[a-z_]+\}|(?<![\w/<])/[a-z_]+\b|</?[a-z]+[^>]*>")


def tokens(text):
    """The parts of a text a translation must keep, as a sorted list."""
    return sorted(PLACEHOLDER_RE.findall(text or ""))


def problems(entry):
    """What is wrong with one translated entry (msgid, msgstr), as sentences; empty when nothing is."""
    msgid, msgstr = entry
    if not msgstr.strip():
        return ["not translated"]
    missing = [t for t in tokens(msgid) if t not in msgstr]
    extra = [t for t in tokens(msgstr) if t not in msgid and not t.startswith("<")]
    found = []
    if missing:
        found.append(f"keeps not {', '.join(missing)}")
    if extra:
        found.append(f"adds {', '.join(extra)}")
    return found


def main(paths):
    count = 0
    for path in paths:
        for entry in polib.pofile(path):
            for problem in problems((entry.msgid, entry.msgstr)):
                count += 1
                print(f"{path}: {entry.msgid[:70]!r}: {problem}")
    print(f"{count} problems")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
