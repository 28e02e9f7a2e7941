"""Play a Telegram user in the terminal against a running Odoo, through the fake Bot API server.

    ./bots play [--url http://127.0.0.1:8069] [--bot "Kyiv shop assistant"] [--lang uk] [--login admin ...]

It starts the fake Telegram on 127.0.0.1, attaches a "Playground (fake Telegram)" channel to the bot in
Odoo (creating it the first time) and connects it, so Odoo receives your messages through its real
webhook and answers through the fake Bot API. No token and no public address are needed.

Type a message and press Enter. The bot's answers are printed with their buttons numbered:
  #2                  press button 2 of the last message
  /contact +380...    share a phone number, as Telegram's "share my phone number" button does
  /quit               leave (the playground channel is disconnected)
Anything else starting with "/" is sent as a command (/start, /end ...).
"""

import argparse
import itertools
import os
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from harness import Rpc, RpcError, load_fake_telegram

TOKEN = "100000001:PLAYGROUND-fake-token"
CHANNEL_NAME = "Playground (fake Telegram)"


def database_of(url):
    """The only database the server lists, when it lists them (list_db), else None."""
    try:
        response = requests.post(
            f"{url.rstrip('/')}/web/database/list",
            json={"jsonrpc": "2.0", "method": "call", "params": {}},
            timeout=10,
        )
        dbs = response.json().get("result") or []
    except (requests.RequestException, ValueError):
        return None
    return dbs[0] if len(dbs) == 1 else None


def attach_channel(odoo, bot_name, fake):
    domain = [("name", "=", bot_name)] if bot_name else [("bot_type", "=", "client")]
    bots = odoo.kw("chatbot.bot", "search_read", domain, fields=["name"], limit=1)
    if not bots:
        raise SystemExit(f"no bot {bot_name!r} in this database")
    bot = bots[0]
    values = {
        "name": CHANNEL_NAME,
        "bot_id": bot["id"],
        "provider": "telegram",
        "telegram_token": TOKEN,
        "telegram_api_url": fake.base_url,
        "telegram_public_url": odoo.url,
        "telegram_intake": "webhook",
        "active": True,
    }
    found = odoo.kw(
        "chatbot.channel",
        "search",
        [("name", "=", CHANNEL_NAME), ("bot_id", "=", bot["id"])],
        context={"active_test": False},
    )
    if found:
        odoo.kw("chatbot.channel", "write", found, values)
        channel_id = found[0]
    else:
        channel_id = odoo.kw("chatbot.channel", "create", values)
    odoo.kw("chatbot.channel", "action_telegram_connect", [channel_id])
    return bot, channel_id


def show(message, keyboards):
    text = message.get("text") or message.get("caption") or ""
    for kind in ("photo", "document"):
        if message.get(kind):
            text = f"[{kind}] {text}"
    print(f"\r  bot> {text}")
    markup = message.get("reply_markup") or {}
    buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
    if buttons:
        keyboards[:] = buttons
        for number, button in enumerate(buttons, 1):
            target = button.get("url") or ""
            print(f"       #{number} {button['text']} {target}".rstrip())
    print("you> ", end="", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BOTS_URL", "http://127.0.0.1:8069"))
    parser.add_argument("--db", help="database (default: the only one the server serves)")
    parser.add_argument("--bot", help="the bot's name (default: the first Client Chat bot)")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--chat-id", type=int, default=770000001, help="your fake Telegram user id")
    parser.add_argument("--name", default="Terminal User", help="your Telegram name")
    parser.add_argument("--lang", default="en", help="your Telegram app's language_code: uk, ru, en ...")
    options = parser.parse_args(argv)
    db = options.db or database_of(options.url)
    if not db:
        raise SystemExit("give --db: the server serves several databases (or none answered)")
    fake = load_fake_telegram().FakeTelegram(retry_delay=1.0)
    fake.start()
    fake.add_bot(TOKEN, username="playground_bot", first_name="Playground")
    try:
        odoo = Rpc(options.url, db, options.login, options.password)
        bot, channel_id = attach_channel(odoo, options.bot, fake)
    except RpcError as error:
        fake.stop()
        raise SystemExit(f"Odoo refused: {error}") from None
    first, *last = options.name.split(" ", 1)
    user = {
        "id": options.chat_id,
        "is_bot": False,
        "first_name": first,
        "last_name": last[0] if last else "",
        "username": first.lower(),
        "language_code": options.lang,
    }
    print(f"Talking to {bot['name']!r} on {options.url} (database {db}) as {options.name}. /quit to leave.")
    keyboards, seen, stop = [], itertools.count(), threading.Event()

    def watch():
        shown = 0
        while not stop.is_set():
            messages = fake.sent_messages(chat_id=options.chat_id)
            for message in messages[shown:]:
                show(message, keyboards)
                next(seen)
            shown = len(messages)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()
    try:
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                break
            if not line:
                continue
            if line == "/quit":
                break
            if line.startswith("#") and line[1:].isdigit():
                number = int(line[1:])
                if not 1 <= number <= len(keyboards) or "callback_data" not in keyboards[number - 1]:
                    print(f"  (no button #{number} to press)")
                    continue
                last_id = fake.sent_messages(chat_id=options.chat_id)[-1]["message_id"]
                update = fake.make_callback_update(
                    options.chat_id, keyboards[number - 1]["callback_data"], message_id=last_id, user=user
                )
            elif line.startswith("/contact "):
                update = fake.make_contact_update(options.chat_id, line.split(" ", 1)[1], user=user)
            else:
                update = fake.make_message_update(options.chat_id, line, user=user)
            fake.push_update(TOKEN, update)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        try:
            odoo.kw("chatbot.channel", "action_telegram_disconnect", [channel_id])
        finally:
            fake.stop()
    print("\nbye")
    return 0


if __name__ == "__main__":
    sys.exit(main())
