from . import chatbot_bot, chatbot_channel, chatbot_dialog, chatbot_step
