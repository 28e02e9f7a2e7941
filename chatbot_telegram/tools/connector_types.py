"""chatbot_base's connector module (normalised events, messages and errors), importable both inside Odoo and
in a plain pytest process, where the addons are not packages: there it is loaded by path, once, under one
name, so that bot_api.py and parse.py raise and build the very same classes."""

import importlib.util
import os
import sys

try:
    from odoo.addons.chatbot_base.tools import connector
except ImportError:
    connector = sys.modules.get("chatbot_base_tools_connector")
    if connector is None:
        _path = os.path.join(os.path.dirname(__file__), "..", "..", "chatbot_base", "tools", "connector.py")
        _spec = importlib.util.spec_from_file_location(
            "chatbot_base_tools_connector", os.path.normpath(_path)
        )
        connector = importlib.util.module_from_spec(_spec)
        sys.modules[_spec.name] = connector
        _spec.loader.exec_module(connector)
