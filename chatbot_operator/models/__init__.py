from . import (
    chatbot_bot,
    chatbot_broadcast,
    chatbot_broadcast_button,
    chatbot_broadcast_recipient,
    chatbot_channel,
    chatbot_dialog,
    chatbot_dialog_message,
    chatbot_operator,
    chatbot_outbound,
    chatbot_sender,
    discuss_channel,
    res_users,
)
