from . import chatbot_send_message, chatbot_start_chat, chatbot_transfer
