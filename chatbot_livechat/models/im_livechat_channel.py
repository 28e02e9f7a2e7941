from odoo import fields, models


class ImLivechatChannel(models.Model):
    """A website live chat whose visitors talk to a bot: always available (the bot answers), and its sessions
    start with the bot as their "operator" until the bot hands the visitor over."""

    _inherit = "im_livechat.channel"

    chatbot_channel_ids = fields.One2many("chatbot.channel", "livechat_channel_id", "Bot channels")

    def _chatbot_channel(self):
        # sudo: which bot answers this live chat is public knowledge for its visitors
        return self.sudo().with_context(active_test=False).chatbot_channel_ids.filtered("active")[:1]

    def get_livechat_info(self, username=None):
        info = super().get_livechat_info(username=username)
        if not info.get("available") and self._chatbot_channel():
            info["available"] = True
            info["options"] = self._get_channel_infos()
            info["options"]["default_username"] = username or self.env._("Visitor")
        return info

    def _get_livechat_discuss_channel_vals(
        self,
        anonymous_name,
        previous_operator_id=None,
        chatbot_script=None,
        user_id=None,
        country_id=None,
        lang=None,
    ):
        channel = self._chatbot_channel()
        if not channel or chatbot_script:
            return super()._get_livechat_discuss_channel_vals(
                anonymous_name,
                previous_operator_id=previous_operator_id,
                chatbot_script=chatbot_script,
                user_id=user_id,
                country_id=country_id,
                lang=lang,
            )
        # the bot is the session's first "operator"; its routing brings an Odoo operator in later
        bot_partner = channel.bot_id._chatbot_partner()
        members = [fields.Command.create({"partner_id": bot_partner.id})]
        visitor = self.env["res.users"].browse(user_id) if user_id else self.env["res.users"]
        if visitor and visitor.active:
            members.append(fields.Command.create({"partner_id": visitor.partner_id.id}))
        return {
            "channel_member_ids": members,
            "livechat_active": True,
            "livechat_operator_id": bot_partner.id,
            "livechat_channel_id": self.id,
            "anonymous_name": False if user_id else anonymous_name,
            "country_id": country_id,
            "channel_type": "livechat",
            "name": f"{visitor.display_name if visitor else anonymous_name} · {channel.bot_id.name}",
        }
