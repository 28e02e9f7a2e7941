from . import chatbot_bot
from . import chatbot_channel
from . import chatbot_sender
from . import chatbot_operator
from . import chatbot_dialog
from . import chatbot_dialog_message
from . import chatbot_inbound
from . import chatbot_outbound
