from . import test_access, test_broadcast, test_chat_actions, test_flow, test_flow_check, test_inputs, test_ui
