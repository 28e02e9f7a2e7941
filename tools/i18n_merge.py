"""Merge a fresh template (.pot) into an addon's uk.po and ru.po: `./bots pot` runs it with the venv's
Python after Odoo's exporter wrote the template.

A term keeps its translation, a new term comes in untranslated (empty msgstr, listed by the test that
every term is translated), a term the code no longer has goes.

    python tools/i18n_merge.py chatbot_base/i18n/chatbot_base.pot uk_UA ru_RU
"""

import os
import sys

import polib

# Ukrainian and Russian: one (1, 21 ...), few (2-4, 22-24 ...), many
SLAVIC_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
PLURAL_FORMS = {"uk_UA": SLAVIC_PLURALS, "ru_RU": SLAVIC_PLURALS}


def merge(pot_path, lang):
    template = polib.pofile(pot_path)
    path = os.path.join(os.path.dirname(pot_path), f"{lang.split('_')[0]}.po")
    old = {(e.msgctxt, e.msgid): e for e in polib.pofile(path)} if os.path.isfile(path) else {}
    po = polib.POFile(wrapwidth=78)
    po.metadata = dict(template.metadata, Language=lang)
    if lang in PLURAL_FORMS:
        po.metadata["Plural-Forms"] = PLURAL_FORMS[lang]
    untranslated = 0
    for term in template:
        known = old.get((term.msgctxt, term.msgid))
        entry = polib.POEntry(
            msgid=term.msgid,
            msgctxt=term.msgctxt,
            occurrences=term.occurrences,
            comment=term.comment,
            flags=list(term.flags),
            msgstr=known.msgstr if known else "",
        )
        untranslated += not entry.msgstr
        po.append(entry)
    po.save(path)
    print(f"{path}: {len(po)} terms, {untranslated} untranslated", flush=True)


if __name__ == "__main__":
    for code in sys.argv[2:]:
        merge(sys.argv[1], code)
