"""The end-to-end harness: a real Odoo server with workers on the test database, next to the fake
Telegram Bot API server, driven over HTTP; shared by the e2e tests and the benchmarks.

Environment (set by `./bots test`): BOTS_ODOO_SRC, BOTS_ADDONS_PATH, BOTS_TEST_DB, BOTS_DB_ARGS.
"""

import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_NAMES = ("BOTS_ODOO_SRC", "BOTS_ADDONS_PATH", "BOTS_TEST_DB", "BOTS_DB_ARGS")
TOKEN = "987654321:E2E-fake-token"
_CONFIGURED = []


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings():
    """The test database settings, or a RuntimeError naming what is missing."""
    missing = [name for name in ENV_NAMES if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"run through `./bots test` (or set {', '.join(missing)})")
    return {
        "src": os.environ["BOTS_ODOO_SRC"],
        "addons_path": os.environ["BOTS_ADDONS_PATH"],
        "db": os.environ["BOTS_TEST_DB"],
        "db_args": json.loads(os.environ["BOTS_DB_ARGS"]),
    }


def load_fake_telegram():
    """The fake Bot API server package, loaded by path (chatbot_telegram is an addon, not a package here)."""
    if "bots_fake_telegram" in sys.modules:
        return sys.modules["bots_fake_telegram"]
    folder = os.path.join(ROOT, "chatbot_telegram", "tests", "fake_telegram")
    spec = importlib.util.spec_from_file_location(
        "bots_fake_telegram", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def registry(conf):
    """Odoo's registry of the test database, in this process: to prepare data and read results."""
    import odoo
    from odoo.modules.registry import Registry

    if not _CONFIGURED:
        # Odoo's configuration can be parsed once per process
        odoo.tools.config.parse_config(
            [f"--addons-path={conf['addons_path']}", *conf["db_args"], "--log-level=warn"]
        )
        _CONFIGURED.append(True)
    return Registry(conf["db"])


@contextmanager
def odoo_env(reg, commit=True):
    """An environment as superuser on a new cursor, committed at the end so the server sees it."""
    from odoo import SUPERUSER_ID, api

    with reg.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})
        if not commit:
            cr.rollback()


def set_online(env, user_ids):
    """Mark Odoo users online in the web client (their bus presence), as a browser tab would: with
    chatbot_livechat installed, routing offers dialogs to Odoo users only while they are online."""
    Presence = env["bus.presence"]
    for user_id in user_ids:
        presence = Presence.search([("user_id", "=", user_id)])
        if presence:
            presence.status = "online"
        else:
            Presence.create({"user_id": user_id, "status": "online"})


class OdooServer:
    """odoo-bin in prefork mode: `workers` HTTP workers and `cron_threads` cron workers."""

    def __init__(self, conf, workers=2, log_level="info", cron_threads=1):
        self.conf = conf
        self.workers = workers
        self.cron_threads = cron_threads
        self.port = free_port()
        self.gevent_port = free_port()  # Odoo's websocket server (the bus) in prefork mode
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = os.path.join(tempfile.mkdtemp(prefix="bots-odoo-"), "server.log")
        # what Odoo prints outside its log (a child process dying at start) goes next to the log
        self.out = os.path.join(os.path.dirname(self.log), "server.out")
        self.log_level = log_level
        self.process = None

    def start(self, timeout=90):
        conf = self.conf
        cmd = [
            sys.executable, os.path.join(conf["src"], "odoo-bin"),
            f"--addons-path={conf['addons_path']}", *conf["db_args"],
            # one database by name (db_name), no dbfilter: Odoo then never lists the databases, which a
            # dbfilter makes it do on every request without a session (every webhook call)
            "-d", conf["db"],
            f"--workers={self.workers}", f"--max-cron-threads={self.cron_threads}",
            f"--http-port={self.port}",
            f"--gevent-port={self.gevent_port}", "--http-interface=127.0.0.1", f"--logfile={self.log}",
            f"--log-level={self.log_level}", "--limit-time-real=120", "--limit-time-real-cron=120",
            "--limit-memory-soft=4294967296", "--limit-memory-hard=5368709120",
        ]  # fmt: skip
        with open(self.out, "wb") as out:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo exited with {self.process.returncode}; log: {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/web/health", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Odoo did not answer within {timeout} s; log: {self.log}")

    def worker_pids(self):
        """The pids of the server's worker processes (HTTP and cron), children of the master."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        )
        return [int(pid) for pid in out.stdout.split()]

    def kill_workers(self):
        """SIGKILL every worker, as the OOM killer would; the master starts new ones."""
        for pid in self.worker_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def store_text_updates(channel, count, chats, first_chat, first_update_id):
    """Store `count` Telegram text updates from `chats` chats straight into `channel`'s inbound queue (as the
    webhook would, without HTTP): the benchmarks' backlog."""
    fake_module = load_fake_telegram()
    for i in range(count):
        update = fake_module.make_message_update(first_chat + i % chats, f"text {i}")
        update["update_id"] = first_update_id + i
        update["message"]["message_id"] = i + 1
        channel._chatbot_store_inbound(update)


def connect_channel(reg, fake, server, name="E2E Telegram", token=TOKEN, intake="webhook"):
    """A client bot with a Telegram channel connected to `fake`, its webhook pointing at `server` (or
    receiving its updates by long polling: `intake="polling"`)."""
    fake.add_bot(token, username="e2e_shop_bot", first_name="E2E shop")
    with odoo_env(reg) as env:
        bot = env["chatbot.bot"].create({"name": f"{name} bot", "bot_type": "client"})
        return telegram_channel(env, bot, fake, server, name, token, intake)


def telegram_channel(env, bot, fake, server, name, token, intake="webhook"):
    """A Telegram channel of `bot` connected to `fake` (the token known to it), its webhook pointing at
    `server`; returns its ids, secret and webhook address."""
    channel = env["chatbot.channel"].create(
        {
            "name": name,
            "bot_id": bot.id,
            "provider": "telegram",
            "telegram_token": token,
            "telegram_api_url": fake.base_url,
            "telegram_public_url": server.url,
            "telegram_intake": intake,
        }
    )
    channel.action_telegram_connect()
    return {
        "bot_id": bot.id,
        "channel_id": channel.id,
        "secret": channel.telegram_webhook_secret,
        "webhook": channel.telegram_webhook_url,
    }


def post_json(url, body, secret, timeout=30):
    """POST as Telegram does; returns (status, seconds). http.client rather than urllib: a load generator
    on the same two cores as the server must cost as little CPU as it can."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request(
            "POST",
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=data,
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )
        response = connection.getresponse()
        response.read()
        status = response.status
    finally:
        connection.close()
    return status, time.perf_counter() - started


def wait_nudging(reg, xmlids, predicate, timeout=60, every=2.0):
    """wait_for `predicate`, triggering the cron jobs `xmlids` every `every` seconds meanwhile: a cron
    worker the master has just started (after a SIGKILL) sleeps up to 70 s before its first poll unless
    woken, and a wake-up sent before it listens is lost."""
    nudged = [0.0]

    def done():
        if predicate():
            return True
        if time.monotonic() - nudged[0] > every:
            with odoo_env(reg) as env:
                for xmlid in xmlids:
                    env.ref(xmlid)._trigger()
            nudged[0] = time.monotonic()
        return False

    return wait_for(done, timeout=timeout)


def wait_for(predicate, timeout=60, interval=0.2):
    """Poll `predicate` until it returns a truthy value; return it, or the last value after `timeout`."""
    deadline = time.time() + timeout
    value = predicate()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


class Rpc:
    """A logged-in JSON-RPC client of the web client's endpoints."""

    def __init__(self, url, db, login, password):
        self.url = url
        self.session = requests.Session()
        result = self.call("/web/session/authenticate", {"db": db, "login": login, "password": password})
        self.uid = result["uid"]

    def call(self, path, params):
        response = self.session.post(
            f"{self.url}{path}", json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise RpcError(body["error"]["data"]["name"], body["error"]["data"]["message"])
        return body["result"]

    def kw(self, model, method, *args, **kwargs):
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


class RpcError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name


@contextmanager
def telegram_world():
    """What an end-to-end module talks to: a real Odoo with two HTTP workers and a cron worker, and the fake
    Telegram; yields conf, reg (the registry), fake, fake_module and server."""
    from types import SimpleNamespace

    conf = settings()
    reg = registry(conf)
    fake_module = load_fake_telegram()
    fake = fake_module.FakeTelegram(retry_delay=0.1, delivery_timeout=10).start()
    server = OdooServer(conf, workers=2).start()
    try:
        yield SimpleNamespace(conf=conf, reg=reg, fake=fake, fake_module=fake_module, server=server)
    finally:
        server.stop()
        fake.stop()
