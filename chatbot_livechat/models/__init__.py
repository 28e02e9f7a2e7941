from . import (
    bus_presence,
    chatbot_bot,
    chatbot_channel,
    chatbot_dialog,
    chatbot_operator,
    chatbot_sender,
    discuss_channel,
    im_livechat_channel,
    mail_message,
    rating_rating,
)
