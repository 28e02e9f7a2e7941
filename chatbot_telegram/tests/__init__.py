from . import test_connect, test_messages, test_webhook
