from . import chatbot_channel
