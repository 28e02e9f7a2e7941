"""Helpers of the fake Telegram server's tests (``tests/test_fake_telegram*.py``): the package loaded from its
folder, a server per test, HTTP calls, a local webhook.

The server package lives inside an Odoo addon, which is not an importable package here, so it is loaded
from its folder. Every test talks to a real server over HTTP (``requests`` with proxies ignored); webhook
tests run a tiny local HTTP server as the bot's webhook. Rate-limit tests use short windows to stay fast.

A fixture is defined as ``fixture_<name>`` with ``name=``, as pytest advises, and imported by the test
modules: their tests' parameters of that name then shadow no imported function.
"""

import importlib.util
import json
import pathlib
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

PACKAGE_PATH = pathlib.Path(__file__).resolve().parents[1] / "chatbot_telegram" / "tests" / "fake_telegram"


def _load_module():
    spec = importlib.util.spec_from_file_location(
        "fake_telegram_under_test",
        PACKAGE_PATH / "__init__.py",
        submodule_search_locations=[str(PACKAGE_PATH)],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its modules import each other relatively, through sys.modules
    spec.loader.exec_module(module)
    return module


ft = _load_module()

TOKEN = "123456:TEST-token_abc"
TOKEN2 = "654321:OTHER-token"
SUPERGROUP = -1001234567890
FORUM = -1009999999999


@pytest.fixture(name="server")
def fixture_server():
    with ft.FakeTelegram(retry_delay=0.05, delivery_timeout=2.0, max_delivery_attempts=3) as srv:
        srv.add_bot(TOKEN)
        yield srv


@pytest.fixture(name="http")
def fixture_http():
    session = requests.Session()
    session.trust_env = False  # never send 127.0.0.1 through an environment proxy
    yield session
    session.close()


def api(http, server, method, token=TOKEN, **params):
    """POST a JSON call; returns (HTTP status, decoded envelope)."""
    response = http.post(f"{server.base_url}/bot{token}/{method}", json=params, timeout=10)
    return response.status_code, response.json()


def ok(http, server, method, token=TOKEN, **params):
    status, body = api(http, server, method, token, **params)
    assert status == 200, body
    assert body["ok"] is True
    return body["result"]


def refused(http, server, method, token=TOKEN, **params):
    status, body = api(http, server, method, token, **params)
    assert body["ok"] is False
    assert status == body["error_code"]
    return status, body


def paced_sends(http, server, count, interval, chat_for, **extra):
    """Send ``count`` messages on an absolute schedule of one per ``interval`` seconds."""
    statuses = []
    start = time.monotonic() + 0.02
    for i in range(count):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        status, _ = api(http, server, "sendMessage", chat_id=chat_for(i), text=f"m{i}", **extra)
        statuses.append(status)
    return statuses


class Webhook:
    """A tiny webhook receiver: records every request and answers what ``responder(update, attempt)``
    returns: a status, or ``(status, delay_seconds, body_bytes)``."""

    def __init__(self, responder=None):
        self.responder = responder
        self.hits = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                received = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                update = json.loads(body)
                with hook.lock:
                    attempt = 1 + sum(1 for h in hook.hits if h["update"]["update_id"] == update["update_id"])
                    hit = {
                        "update": update,
                        "headers": dict(self.headers),
                        "received": received,
                        "attempt": attempt,
                    }
                    hit["path"] = self.path
                    hook.hits.append(hit)
                answer = hook.responder(update, attempt) if hook.responder else 200
                status, delay, reply = answer if isinstance(answer, tuple) else (answer, 0, b"")
                if delay:
                    time.sleep(delay)
                hit["answered"] = time.monotonic()
                hit["status"] = status
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json" if reply else "text/plain")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def texts(self):
        with self.lock:
            return [(h["update"]["message"]["text"], h["attempt"]) for h in self.hits]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(name="webhook_factory")
def fixture_webhook_factory():
    hooks = []

    def make(responder=None):
        hook = Webhook(responder)
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
