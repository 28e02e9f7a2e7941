from . import (
    chatbot_channel,
    chatbot_channel_group,
    chatbot_dialog,
    chatbot_dialog_message,
    chatbot_telegram_poll,
)
