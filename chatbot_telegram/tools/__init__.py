from . import bot_api, parse
