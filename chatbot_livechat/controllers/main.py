from odoo import http
from odoo.http import request

from odoo.addons.im_livechat.controllers.main import LivechatController
from odoo.addons.mail.tools.discuss import Store


class BotsLivechatController(LivechatController):
    @http.route()
    def livechat_init(self, channel_id):
        """A live chat answered by a bot is open whoever is online (unless a rule hides its button)."""
        result = super().livechat_init(channel_id)
        livechat = request.env["im_livechat.channel"].sudo().browse(channel_id).exists()
        rule = result.get("rule") or {}
        if livechat and livechat._chatbot_channel() and rule.get("action") != "hide_button":
            result["available_for_me"] = True
        return result


class BotsLivechatPopups(http.Controller):
    @http.route("/chatbot_livechat/open_sessions", type="json", auth="user", methods=["POST"])
    def open_sessions(self):
        """The bot conversations the current user left open (their chat windows), for the web client to
        open them again at start: an operator who was reloading the page when a customer came still gets the
        pop-up."""
        members = request.env["discuss.channel.member"].search(
            [
                ("is_self", "=", True),
                ("fold_state", "=", "open"),
                ("channel_id.channel_type", "=", "livechat"),
                ("channel_id.livechat_active", "=", True),
                ("channel_id.chatbot_dialog_id", "!=", False),
            ],
            limit=10,
        )
        store = Store(members.channel_id)
        return store.get_result()


class BotsChatPage(http.Controller):
    @http.route("/chatbot/chat/<int:channel_id>", type="http", auth="public", methods=["GET"])
    def chat_page(self, channel_id):
        """A public page with the live chat of a bot: a link to share (a QR code, an e-mail signature) for
        companies without the Website app, where the widget opens on the page's corner."""
        # sudo: the live chat's public face (name, colours, availability), as its embed script shows it
        livechat = request.env["im_livechat.channel"].sudo().browse(channel_id).exists()
        if not livechat or not livechat._chatbot_channel():
            raise request.not_found()
        return request.render(
            "chatbot_livechat.chat_page",
            {
                "livechat": livechat,
                "bot": livechat._chatbot_channel().bot_id,
                "info": livechat.get_livechat_info(),
            },
        )
