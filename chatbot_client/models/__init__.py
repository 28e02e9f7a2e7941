from . import (
    chatbot_bot,
    chatbot_broadcast_button,
    chatbot_case,
    chatbot_channel,
    chatbot_dialog,
    chatbot_step,
)
