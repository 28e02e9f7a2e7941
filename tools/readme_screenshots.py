"""The README's screenshots of the main screens, in English and in Ukrainian, from a running `./bots up
--lang uk_UA` (the demo database with Ukrainian installed).

    .venv/bin/python tools/readme_screenshots.py http://127.0.0.1:8069 [admin admin]

For each language it sets the user's language over JSON-RPC, then calls tools/screenshot.py for each
screen: docs/<screen>-en.png and docs/<screen>-uk.png. The user's language is set back at the end.
"""

import json
import os
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGS = {"en": "en_US", "uk": "uk_UA"}


class Rpc:
    def __init__(self, url, login, password):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        self.uid = self.call("/web/session/authenticate", {"db": "", "login": login, "password": password})[
            "uid"
        ]

    def call(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(self.url + path, body, {"Content-Type": "application/json"})
        with self.opener.open(request) as response:
            answer = json.load(response)
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def kw(self, model, method, *args, **kwargs):
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        return self.call(f"/web/dataset/call_kw/{model}/{method}", params)

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.kw(
            "ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], ["res_id"]
        )
        return rows[0]["res_id"]


def screens(rpc):
    """(name, path, a selector to click or None, width, height) of each screen."""
    bots = "/odoo/action-chatbot_base.chatbot_bot_action"
    operator_bot = rpc.ref("chatbot_base.demo_bot_operator")
    client_bot = rpc.ref("chatbot_base.demo_bot_client")
    dialog = rpc.ref("chatbot_telegram.demo_dialog_olena")
    return [
        ("bots-kanban", bots, None, 1400, 720),
        ("bot-settings", f"{bots}/{operator_bot}", "a[name='settings']", 1400, 1100),
        ("bot-steps", f"{bots}/{client_bot}", "a[name='steps']", 1400, 800),
        ("conversation", f"/odoo/action-chatbot_base.chatbot_dialog_action/{dialog}", None, 1400, 800),
        ("broadcast", "/odoo/action-chatbot_operator.chatbot_broadcast_action/new", None, 1400, 800),
    ]


def main(url, login="admin", password="admin"):
    rpc = Rpc(url, login, password)
    before = rpc.kw("res.users", "read", [rpc.uid], ["lang"])[0]["lang"]
    try:
        for suffix, lang in LANGS.items():
            rpc.kw("res.users", "write", [rpc.uid], {"lang": lang})
            for name, path, click, width, height in screens(rpc):
                out = os.path.join(ROOT, "docs", f"{name}-{suffix}.png")
                env = dict(os.environ, SHOT_DISMISS="1", SHOT_WAIT=os.environ.get("SHOT_WAIT", "8"))
                if click:
                    env["SHOT_CLICK"] = click
                command = [sys.executable, os.path.join(ROOT, "tools", "screenshot.py"), url, login, password]
                subprocess.run(
                    [*command, path, out, str(width), str(height)],
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                print(out, flush=True)
    finally:
        rpc.kw("res.users", "write", [rpc.uid], {"lang": before})
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
