"""Helpers of the tests of chatbot_telegram's pure-Python tools (``tests/test_telegram_tools*.py``).

The addon is not an importable package outside Odoo, so ``chatbot_telegram/tools`` is loaded by file path as
a package of its own; the connector's classes are taken from the loaded modules, whichever way they got them.

A fixture is defined as ``fixture_<name>`` with ``name=``, as pytest advises, and imported by the test
modules: their tests' parameters of that name then shadow no imported function.
"""

import importlib.util
import pathlib
import socket
import sys
import traceback

import pytest
import requests
from harness import load_fake_telegram

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_tools():
    folder = ROOT / "chatbot_telegram" / "tools"
    spec = importlib.util.spec_from_file_location(
        "bots_chatbot_telegram_tools", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tools = _load_tools()
bot_api = tools.bot_api
parse = tools.parse
connector = sys.modules[bot_api.ConnectorError.__module__]
ft = load_fake_telegram()

Button = connector.Button
OutboundMessage = connector.OutboundMessage
InboundEvent = connector.InboundEvent
InboundFile = connector.InboundFile
SenderProfile = connector.SenderProfile
Thread = connector.Thread

TOKEN = "123456:SECRET-token_xyz987"
FORUM = -1001777000000
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
PDF = b"%PDF-1.4\n" + b"1" * 64


@pytest.fixture(name="server")
def fixture_server(fake_telegram):
    fake_telegram.configure(rate_limits=False)
    fake_telegram.add_bot(TOKEN, username="demo_bot")
    return fake_telegram


class RecordingSession(requests.Session):
    """A session that remembers the timeout of every request (and never uses an environment proxy)."""

    def __init__(self):
        super().__init__()
        self.trust_env = False
        self.timeouts = []

    def request(self, method, url, *args, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(name="session")
def fixture_session():
    with RecordingSession() as recording:
        yield recording


@pytest.fixture(name="api")
def fixture_api(server, session):
    return bot_api.BotApi(TOKEN, base_url=server.base_url, timeout=5, session=session)


def assert_no_token(exc):
    """The token is nowhere: message, repr, chained exceptions, formatted traceback."""
    assert TOKEN not in str(exc)
    assert TOKEN not in repr(exc)
    assert exc.__cause__ is None
    assert exc.__context__ is None
    assert TOKEN not in "".join(traceback.format_exception(exc))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# the parsing tests' own helpers

ADA = SenderProfile(external_id="42", name="Ada Lovelace", username="ada_42", lang="en")


def update(body, update_id=1000):
    return {"update_id": update_id, **body}


def message_update(extra, chat_id=42, message_id=7, **kwargs):
    return update(ft.make_message_update(chat_id, None, message_id=message_id, **extra, **kwargs))
