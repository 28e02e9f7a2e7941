from . import (
    chatbot_bot,
    chatbot_channel,
    chatbot_dialog,
    chatbot_dialog_message,
    chatbot_inbound,
    chatbot_operator,
    chatbot_outbound,
    chatbot_sender,
    res_config_settings,
    res_partner,
)
