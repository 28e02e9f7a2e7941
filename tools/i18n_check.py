"""Check translation files as the test TestTranslations does: every term translated, and a translation
keeps the term's placeholders (%(name)s, %s, {position}), commands (/start) and markup tags.

    .venv/bin/python tools/i18n_check.py chatbot_base/i18n/uk.po [more.po ...]

Prints each problem and exits 1 when there is one.
"""

import importlib.util
import os
import sys

import polib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_rules():
    """chatbot_base/tools/po_rules.py, without importing Odoo (its package's __init__ would)."""
    spec = importlib.util.spec_from_file_location(
        "po_rules", os.path.join(ROOT, "chatbot_base", "tools", "po_rules.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(paths):
    rules = load_rules()
    count = 0
    for path in paths:
        for entry in polib.pofile(path):
            for problem in rules.translation_problems(entry.msgid, entry.msgstr):
                count += 1
                print(f"{path}: {entry.msgid[:70]!r}: {problem}")
    print(f"{count} problems")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
