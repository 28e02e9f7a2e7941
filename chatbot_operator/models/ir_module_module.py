from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(self, modules, langs, overwrite=False, imported_module=False):
        """A language installed (or its translations loaded again): the bots' texts nobody edited get their
        default in it, as a bot created afterwards would."""
        result = super()._load_module_terms(
            modules, langs, overwrite=overwrite, imported_module=imported_module
        )
        langs = [lang for lang in langs if lang != "en_US"]
        if "chatbot_operator" in modules and langs and "text_completed" in self.env["chatbot.bot"]._fields:
            bots = self.env["chatbot.bot"].with_context(active_test=False).search([])
            bots._chatbot_translate_default_texts(langs)
        return result
