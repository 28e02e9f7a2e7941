from . import chatbot_send_message, chatbot_transfer
