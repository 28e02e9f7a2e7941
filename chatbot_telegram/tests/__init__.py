from . import test_connect, test_messages, test_operator_group, test_ui, test_webhook
