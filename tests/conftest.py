"""Fixtures of the top-level suite: the repository, a real Odoo server with workers, the fake Telegram.

`./bots test` runs this suite after Odoo's own tests, with these variables set:
  BOTS_ODOO_SRC      the Odoo 18.0 source tree
  BOTS_ADDONS_PATH   Odoo's addons path, ours included
  BOTS_TEST_DB       the throwaway database where the five addons (and demo data) are installed
  BOTS_DB_ARGS       JSON list of odoo-bin database options (--db_host=..., ...)
The end-to-end tests need all four; without them (plain `pytest` outside `./bots test`) they fail with a
message saying so, they are never skipped.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDONS = ["chatbot_base", "chatbot_telegram", "chatbot_operator", "chatbot_client", "chatbot_livechat"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_fake_telegram():
    """The fake Bot API server module, loaded by path (chatbot_telegram is an addon, not a package here)."""
    path = os.path.join(ROOT, "chatbot_telegram", "tests", "fake_telegram.py")
    spec = importlib.util.spec_from_file_location("bots_fake_telegram", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def odoo_settings():
    names = ("BOTS_ODOO_SRC", "BOTS_ADDONS_PATH", "BOTS_TEST_DB", "BOTS_DB_ARGS")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(f"end-to-end tests run through `./bots test`, which sets {', '.join(missing)}")
    return {
        "src": os.environ["BOTS_ODOO_SRC"],
        "addons_path": os.environ["BOTS_ADDONS_PATH"],
        "db": os.environ["BOTS_TEST_DB"],
        "db_args": json.loads(os.environ["BOTS_DB_ARGS"]),
    }


@pytest.fixture(scope="session")
def odoo_registry(odoo_settings):
    """Odoo's registry of the test database, in this process: to prepare data and read results."""
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(
        [f"--addons-path={odoo_settings['addons_path']}", *odoo_settings["db_args"], "--log-level=warn"]
    )
    return Registry(odoo_settings["db"])


@contextmanager
def odoo_env(registry, commit=True):
    """An environment as superuser on a new cursor, committed at the end (the server must see it)."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})
        if not commit:
            cr.rollback()


@pytest.fixture(scope="session")
def odoo_server(odoo_settings, tmp_path_factory):
    """A real Odoo server with --workers=2 (prefork, one cron worker) on the test database."""
    port, gevent_port = free_port(), free_port()
    logfile = tmp_path_factory.mktemp("odoo") / "server.log"
    cmd = [
        sys.executable,
        os.path.join(odoo_settings["src"], "odoo-bin"),
        f"--addons-path={odoo_settings['addons_path']}",
        *odoo_settings["db_args"],
        "-d",
        odoo_settings["db"],
        f"--db-filter=^{odoo_settings['db']}$",
        "--workers=2",
        "--max-cron-threads=1",
        f"--http-port={port}",
        f"--gevent-port={gevent_port}",
        "--http-interface=127.0.0.1",
        f"--logfile={logfile}",
        "--log-level=info",
        "--limit-time-real=120",
        "--limit-memory-soft=4294967296",
        "--limit-memory-hard=5368709120",
    ]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Odoo exited with {process.returncode}; log: {logfile}")
        try:
            with urllib.request.urlopen(f"{url}/web/health", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"Odoo did not answer within 90 s; log: {logfile}")
    yield {"url": url, "log": logfile, "process": process}
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def fake_telegram_module():
    return load_fake_telegram()


@pytest.fixture
def fake_telegram(fake_telegram_module):
    server = fake_telegram_module.FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def tmpdir_path():
    with tempfile.TemporaryDirectory() as path:
        yield path
