from . import (
    chatbot_bot,
    chatbot_channel,
    chatbot_dialog,
    chatbot_dialog_message,
    chatbot_operator,
    chatbot_sender,
    discuss_channel,
    res_users,
)
