"""The README's screenshots of the main screens, in English and in Ukrainian, from a running `./bots up
--lang uk_UA` (the demo database with Ukrainian installed).

    .venv/bin/python tools/readme_screenshots.py http://127.0.0.1:8069 [admin admin [bots]]

For each language it sets the user's language over JSON-RPC, then calls tools/screenshot.py for each
screen: docs/<screen>-en.png and docs/<screen>-uk.png. The user's language is set back at the end.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from harness import Rpc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGS = {"en": "en_US", "uk": "uk_UA"}


def ref(rpc, xmlid):
    module, name = xmlid.split(".")
    rows = rpc.kw("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], ["res_id"])
    return rows[0]["res_id"]


def screens(rpc):
    """(name, path, a selector to click or None, width, height) of each screen."""
    bots = "/odoo/action-chatbot_base.chatbot_bot_action"
    operator_bot = ref(rpc, "chatbot_base.demo_bot_operator")
    client_bot = ref(rpc, "chatbot_base.demo_bot_client")
    shots = [
        ("bots-kanban", bots, None, 1400, 560),
        ("bot-settings", f"{bots}/{operator_bot}", "a[name='settings']", 1400, 1000),
        ("bot-steps", f"{bots}/{client_bot}", "a[name='steps']", 1400, 900),
    ]
    # the latest consultation in Discuss: play a customer first (`./bots play --lang uk`)
    dialogs = rpc.kw(
        "chatbot.dialog",
        "search_read",
        [("state", "=", "active"), ("discuss_channel_id", "!=", False)],
        ["discuss_channel_id"],
        order="id desc",
        limit=1,
    )
    if dialogs:
        channel = dialogs[0]["discuss_channel_id"][0]
        shots.append(("conversation", f"/odoo/discuss?active_id=discuss.channel_{channel}", None, 1400, 660))
    else:
        print("no conversation to show: play a customer first (./bots play --lang uk)", flush=True)
    broadcast = rpc.kw("chatbot.broadcast", "search", [("name", "=", "Spring sale")], limit=1) or [
        rpc.kw(
            "chatbot.broadcast",
            "create",
            {
                "name": "Spring sale",
                "bot_id": operator_bot,
                "body": "Весняний розпродаж: -20% на дивани до неділі!",
                "button_ids": [
                    (0, 0, {"label": "До магазину", "button_type": "url", "url": "https://example.com/sale"}),
                    (0, 0, {"label": "Unsubscribe", "button_type": "optout"}),
                ],
            },
        )
    ]
    shots.append(
        (
            "broadcast",
            f"/odoo/action-chatbot_operator.chatbot_broadcast_action/{broadcast[0]}",
            None,
            1400,
            760,
        )
    )
    return shots


def main(url, login="admin", password="admin", db="bots"):
    rpc = Rpc(url, db, login, password)
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
