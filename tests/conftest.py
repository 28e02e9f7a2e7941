"""Fixtures of the top-level suite. The end-to-end machinery lives in harness.py (shared with the
benchmarks); the end-to-end tests need `./bots test`'s variables and fail, never skip, without them."""

import pytest
from harness import ROOT, OdooServer, load_fake_telegram, odoo_env, registry, settings

ADDONS = ["chatbot_base", "chatbot_telegram", "chatbot_operator", "chatbot_client", "chatbot_livechat"]
__all__ = ["ADDONS", "ROOT", "odoo_env"]


@pytest.fixture(scope="session")
def odoo_settings():
    try:
        return settings()
    except RuntimeError as error:
        pytest.fail(f"end-to-end tests: {error}")


@pytest.fixture(scope="session")
def odoo_registry(odoo_settings):
    """Odoo's registry of the test database, in this process: to prepare data and read results."""
    return registry(odoo_settings)


@pytest.fixture(scope="session")
def odoo_server(odoo_settings):
    """A real Odoo server with --workers=2 (prefork, one cron worker) on the test database."""
    server = OdooServer(odoo_settings, workers=2).start()
    yield {
        "url": server.url,
        "log": server.log,
        "out": server.out,
        "process": server.process,
        "websocket_url": f"ws://127.0.0.1:{server.gevent_port}/websocket",
    }
    server.stop()


@pytest.fixture(scope="session")
def fake_telegram_module():
    return load_fake_telegram()


@pytest.fixture
def fake_telegram(fake_telegram_module):
    server = fake_telegram_module.FakeTelegram().start()
    yield server
    server.stop()
