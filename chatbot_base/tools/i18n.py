"""Languages of the people the bots talk to, and default texts that follow them.

A customer reads their contact's language, else their messenger's ('uk' → uk_UA), when Odoo has it
installed. A text the suite ships (a LazyGettext such as `_lt("Press /start to talk.")`) is stored on a
record so that an administrator can edit it; while it still equals the default in one of the installed
languages nobody edited it, and each reader gets the default in their own language.
"""

from odoo.tools.translate import get_translation


def odoo_lang(env, code):
    """The installed Odoo language matching `code`: an Odoo code ('uk_UA') or a messenger's ('uk', 'pt-br');
    False when none is installed."""
    code = (code or "").replace("-", "_")
    if not code:
        return False
    codes = [lang for lang, _name in env["res.lang"].get_installed()]
    if code in codes:
        return code
    prefix = code.split("_")[0].lower()
    return next((lang for lang in codes if lang.split("_")[0].lower() == prefix), False)


def reader_lang(env, partner_lang, messenger_lang):
    """The language a person reads: their contact's when installed, else their messenger's; None when
    neither is installed (the context's language then applies)."""
    installed = dict(env["res.lang"].get_installed())
    if partner_lang in installed:
        return partner_lang
    return odoo_lang(env, messenger_lang) or None


def default_variants(env, lazy):
    """`lazy`'s text in English and in each installed language."""
    source = lazy._translate("en_US")
    codes = [lang for lang, _name in env["res.lang"].get_installed()]
    return {source} | {get_translation(lazy._module, code, source, ()) for code in codes}


def unless_edited(env, lazy, text):
    """`text` when someone wrote it; the default `lazy` in the context's language when `text` is that
    default in any installed language (nobody edited it)."""
    if text in default_variants(env, lazy):
        return env._(lazy)
    return text
