import uuid

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import request

from odoo.addons.chatbot_base.models.chatbot_bot import MANAGER_GROUP

HISTORY = 200  # messages the test page shows at most


class ChatbotFlowTest(http.Controller):
    """The "Test" page of a client bot: its author plays a customer in the browser, on the real engine."""

    def _bot(self, bot_id):
        if not request.env.user.has_group(MANAGER_GROUP):
            raise AccessError(request.env._("Only Bots managers test bot flows."))
        bot = request.env["chatbot.bot"].browse(bot_id).exists()
        if not bot:
            raise request.not_found()
        bot.check_access("read")
        return bot

    def _chat(self):
        return f"test-{request.env.uid}"

    @http.route("/chatbot/test/<int:bot_id>", type="http", auth="user", methods=["GET"])
    def test_page(self, bot_id):
        bot = self._bot(bot_id)
        return request.render("chatbot_client.flow_test_page", {"bot": bot})

    @http.route("/chatbot/test/<int:bot_id>/send", type="json", auth="user", methods=["POST"])
    def test_send(self, bot_id, text=None, button=None, contact_phone=None):
        """A message, a pressed button or a shared phone number of the tester, through the inbound queue."""
        bot = self._bot(bot_id)
        channel = bot._chatbot_test_channel()
        user = request.env.user
        payload = {
            "id": uuid.uuid4().hex,
            "chat": self._chat(),
            "user": {"id": self._chat(), "name": f"{user.name} (test)", "lang": user.lang},
            "text": (text or "")[:4096],
            "button": (button or "")[:64],
            "contact_phone": (contact_phone or "")[:32],
        }
        row_id = channel.sudo()._chatbot_store_inbound(payload)
        # processed at once, like the queue would: the page shows the answer without waiting for a cron
        inbound = request.env["chatbot.inbound"].sudo().browse(row_id)
        inbound._process_one()
        return {"state": inbound.state, "error": inbound.error or False}

    @http.route("/chatbot/test/<int:bot_id>/messages", type="json", auth="user", methods=["POST"])
    def test_messages(self, bot_id, after=0):
        """The tester's dialog since message `after`: texts, buttons, the dialog's state."""
        bot = self._bot(bot_id)
        Dialog = request.env["chatbot.dialog"].sudo()
        dialog = Dialog.search(
            [
                ("bot_id", "=", bot.id),
                ("sender_id.external_id", "=", self._chat()),
                ("channel_id.provider", "=", "browser"),
            ],
            order="id desc",
            limit=1,
        )
        if not dialog:
            return {"messages": [], "state": False}
        messages = (
            request.env["chatbot.dialog.message"]
            .sudo()
            .search(
                [("dialog_id.sender_id", "=", dialog.sender_id.id), ("id", ">", int(after or 0))],
                order="id",
                limit=HISTORY,
            )
        )
        return {
            "state": dialog.state,
            "step": dialog.step_id.display_name or False,
            "messages": [
                {
                    "id": message.id,
                    "direction": message.direction,
                    "author": message.author_kind,
                    "text": message.body or "",
                    **{
                        key: (message.outbound_id.payload or {}).get(key) or []
                        for key in ("buttons", "keyboard")
                    },
                }
                for message in messages
            ],
        }
