from . import (
    chatbot_bot,
    chatbot_broadcast_button,
    chatbot_channel,
    chatbot_dialog,
    chatbot_dialog_case,
    chatbot_step,
)
