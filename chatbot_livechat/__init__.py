from . import controllers, models


def post_init_hook(env):
    """Operator bots that existed before the addon get their live chat channel ("Odoo live-chat")."""
    env["chatbot.bot"].search([("bot_type", "=", "operator")])._chatbot_ensure_livechat()
