"""Log in to a running Odoo in headless Chromium and save a screenshot of a page.

Usage: .venv/bin/python tools/screenshot.py URL LOGIN PASSWORD PATH_AFTER_LOGIN OUT.png [WIDTH HEIGHT]
(SHOT_WAIT=seconds to let the page render, default 5; SHOT_DISMISS=1 closes notifications and chat
windows first;
SHOT_CLICK=a CSS selector to click before the picture, e.g. a form's tab: a[name='settings'])
e.g.   .venv/bin/python tools/screenshot.py http://127.0.0.1:8069 admin admin \
           /odoo/action-chatbot_base.chatbot_bot_action kanban.png
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket


def main():
    url, login, password, path, out = sys.argv[1:6]
    width, height = (int(v) for v in (sys.argv[6:8] or (1400, 900)))
    chrome = shutil.which("chromium") or shutil.which("google-chrome")
    profile = tempfile.mkdtemp()
    port = 9333
    proc = subprocess.Popen(
        [
            chrome,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as resp:
                    target = next(t for t in json.load(resp) if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        ws = websocket.create_connection(target["webSocketDebuggerUrl"])
        counter = iter(range(1, 10**6))

        def call(method, **params):
            ident = next(counter)
            ws.send(json.dumps({"id": ident, "method": method, "params": params}))
            while True:
                msg = json.loads(ws.recv())
                if msg.get("id") == ident:
                    return msg.get("result", {})

        def evaluate(expr):
            return call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)

        call("Page.enable")
        call("Page.navigate", url=f"{url}/web/login")
        time.sleep(2)
        evaluate(
            f"document.querySelector('#login').value={json.dumps(login)};"
            f"document.querySelector('#password').value={json.dumps(password)};"
            "document.querySelector('form.oe_login_form').submit();"
        )
        time.sleep(3)
        call("Page.navigate", url=f"{url}{path}")
        time.sleep(float(os.environ.get("SHOT_WAIT", 5)))  # seconds for the page to render
        if os.environ.get("SHOT_DISMISS"):
            # close the notifications (a fresh headless session may get Odoo's "page is out of date")
            evaluate("document.querySelectorAll('.o_notification_close').forEach((b) => b.click())")
            # and the chat windows and bubbles Odoo reopens for the user's open conversations
            chats = "document.querySelectorAll('.o-mail-ChatHub, .o-mail-ChatWindow')"
            evaluate(f"{chats}.forEach((e) => e.style.setProperty('display', 'none', 'important'))")
            time.sleep(1)
        if os.environ.get("SHOT_CLICK"):
            evaluate(f"document.querySelector({json.dumps(os.environ['SHOT_CLICK'])}).click()")
            time.sleep(2)
        data = call("Page.captureScreenshot", format="png")["data"]
        with open(out, "wb") as handle:
            handle.write(base64.b64decode(data))
        text = evaluate(
            "document.querySelector('.o_action_manager') && "
            "document.querySelector('.o_action_manager').innerText"
        )
        print(text.get("result", {}).get("value"))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return 0 if os.path.exists(out) else 1


if __name__ == "__main__":
    sys.exit(main())
