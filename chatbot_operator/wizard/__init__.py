from . import chatbot_send_message
