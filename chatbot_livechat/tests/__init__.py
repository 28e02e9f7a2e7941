from . import test_livechat, test_ui
