from . import (
    test_accept,
    test_access,
    test_broadcast,
    test_conversation,
    test_messenger_operator,
    test_routing,
    test_similar,
    test_start_chat,
    test_timeouts,
    test_ui,
    test_ui_actions,
)
