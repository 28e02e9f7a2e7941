import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

from ..tools.po_rules import translation_problems

LANGUAGES = ("uk", "ru")


@tagged("chatbot", "post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_every_term_of_the_suite_has_a_ukrainian_and_a_russian_translation(self):
        """Odoo's exporter reads the terms of the installed Bots addons (code, views, fields, selections,
        menus, JavaScript, demo flows) as `./bots pot` does; each has a translation in uk.po and ru.po that
        keeps its placeholders. A string added to the code without its translations fails here: run
        `./bots pot` and translate the new entries."""
        addons = (
            self.env["ir.module.module"]
            .search([("name", "=like", "chatbot\\_%"), ("state", "=", "installed")])
            .mapped("name")
        )
        self.assertGreaterEqual(len(addons), 1)
        terms = {}
        for module, _kind, name, _res_id, source, _value, _comments in TranslationModuleReader(
            self.env.cr, modules=addons
        ):
            terms.setdefault(module, {}).setdefault(source, name)
        self.assertTrue(terms.get("chatbot_base"), "the exporter found no term: the test would prove nothing")
        problems = []
        for addon in addons:
            for lang in LANGUAGES:
                path = f"{get_module_path(addon)}/i18n/{lang}.po"
                try:
                    translations = {entry.msgid: entry.msgstr for entry in polib.pofile(path)}
                except OSError:
                    problems.append(f"{addon}/i18n/{lang}.po is missing")
                    continue
                for source, where in terms.get(addon, {}).items():
                    problems += [
                        f"{addon}/i18n/{lang}.po: {where}: {source[:80]!r}: {problem}"
                        for problem in translation_problems(source, translations.get(source, ""))
                    ]
        self.assertFalse(problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40]))
