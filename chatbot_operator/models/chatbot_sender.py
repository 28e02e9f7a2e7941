from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.chatbot_base.models.chatbot_bot import ADMIN_GROUP
from odoo.addons.chatbot_base.tools.connector import OutboundMessage

# channels whose people cannot serve customers from a messenger chat with the bot
NOT_MESSENGERS = ("livechat", "browser")


class ChatbotSender(models.Model):
    """Moderation of messenger users who ask to become operators (seed §1.1.3)."""

    _inherit = "chatbot.sender"

    operator_request_state = fields.Selection(
        [("pending", "Waiting for approval"), ("approved", "Approved"), ("rejected", "Rejected")],
        "Operator request",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="This person asked to become an operator of the bot (/operator in the messenger).",
    )
    operator_ids = fields.One2many("chatbot.operator", "sender_id", "As operator")
    can_be_operator = fields.Boolean(
        compute="_compute_can_be_operator",
        help="A messenger user who wrote to a consultation bot: an administrator may make them an operator, "
        "whether or not they asked (/operator).",
    )
    broadcast_optout = fields.Boolean(
        "No broadcasts",
        help="The person sent /stop (or pressed a broadcast's stop button): they get no more broadcasts.",
    )
    rated_dialog_id = fields.Many2one(
        "chatbot.dialog",
        "Just rated",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The dialog this person rated last, until their next message (which may be the rating's "
        "comment).",
    )
    is_operator = fields.Boolean(
        "Operator",
        compute="_compute_is_operator",
        store=True,
        help="An active operator of a bot: their messages answer their customer instead of opening a dialog.",
    )

    @api.depends("operator_ids.active")
    def _compute_is_operator(self):
        for sender in self:
            sender.is_operator = bool(sender.with_context(active_test=False).operator_ids.filtered("active"))

    def _chatbot_operator_bot(self):
        return self.bot_id._chatbot_operator_bot()

    def _chatbot_notify(self, text, attachments=None, buttons=None):
        """A message to this person outside of any customer dialog: moderation answers, and what a messenger
        operator gets in their private chat with the bot (customers' messages, notices)."""
        self.ensure_one()
        if not (text or attachments) or self.is_blocked:
            return self.env["chatbot.outbound"]
        return self.env["chatbot.outbound"]._chatbot_enqueue(
            self.channel_id,
            OutboundMessage(
                chat_id=self.chat_id or self.external_id,
                text=text or "",
                attachment_ids=attachments.ids if attachments else [],
                buttons=buttons or [],
            ),
            sender=self,
        )

    def _chatbot_opt_out(self, dialog):
        """/stop, or a broadcast's stop button: no more broadcasts for this person, and a short
        confirmation."""
        self.ensure_one()
        if not self.broadcast_optout:
            self.broadcast_optout = True
        dialog._chatbot_send(dialog._chatbot_say("text_optout"), author_kind="system")

    def _chatbot_request_operator_role(self, dialog):
        """/operator from the messenger: the moderation text, and the request waits for an administrator."""
        self.ensure_one()
        bot = self._chatbot_operator_bot()
        if not bot:
            dialog._chatbot_send(self.env._("This bot has no operators."), author_kind="system")
            return
        if bot._chatbot_settings().odoo_operators_only:
            dialog._chatbot_send(
                self.env._(
                    "This bot takes operators from Odoo only: ask the company to invite you as a user."
                ),
                author_kind="system",
            )
            return
        if self.operator_request_state == "approved" and self.operator_ids.filtered("active"):
            dialog._chatbot_send(bot._chatbot_text("text_approved"), author_kind="system")
            return
        self.operator_request_state = "pending"
        dialog._chatbot_send(bot._chatbot_text("text_moderation"), author_kind="system")

    def _chatbot_check_moderator(self):
        if not (self.env.su or self.env.user.has_group(ADMIN_GROUP)):
            raise AccessError(self.env._("Only a Bots administrator approves or rejects operators."))

    @api.depends("bot_id.bot_type", "provider", "operator_request_state")
    def _compute_can_be_operator(self):
        for sender in self:
            sender.can_be_operator = (
                sender.operator_request_state != "approved"
                and sender.bot_id.bot_type == "operator"
                and sender.provider not in NOT_MESSENGERS
            )

    def action_chatbot_approve(self):
        """Make these people operators of the bot (seed §1.1.3: whoever wrote to it, asked or not); they get
        the "approved" text."""
        self._chatbot_check_moderator()
        Operator = self.env["chatbot.operator"].sudo().with_context(active_test=False)
        for sender in self.sudo():
            bot = sender._chatbot_operator_bot()
            if not bot:
                raise UserError(self.env._("%(name)s writes to a bot without operators.", name=sender.name))
            if sender.provider in NOT_MESSENGERS:
                raise UserError(
                    self.env._(
                        "%(name)s writes from the website or the flow test page: only a messenger user can "
                        "answer customers from their messenger.",
                        name=sender.name,
                    )
                )
            if bot._chatbot_settings().odoo_operators_only:
                raise UserError(
                    self.env._("%(bot)s takes Odoo operators only (see its settings).", bot=bot.name)
                )
            operator = Operator.search([("bot_id", "=", bot.id), ("sender_id", "=", sender.id)], limit=1)
            if operator:
                operator.active = True
            else:
                Operator.create({"bot_id": bot.id, "sender_id": sender.id})
            sender.operator_request_state = "approved"
            # the person is an operator now, not a customer: their own dialog ends without a word
            sender.dialog_ids.filtered(lambda d: d.state != "closed").action_close()
            sender._chatbot_notify(bot._chatbot_text("text_approved", lang=sender._chatbot_reader_lang()))
            bot._chatbot_dispatch_queue()
        return True

    def action_chatbot_reject(self):
        """Refuse these people as operators (an approved one stops being one); they get the "rejected"
        text."""
        self._chatbot_check_moderator()
        for sender in self.sudo():
            bot = sender._chatbot_operator_bot()
            sender.operator_ids.filtered(lambda o, bot=bot: o.bot_id == bot).active = False
            sender.operator_request_state = "rejected"
            if bot:
                sender._chatbot_notify(bot._chatbot_text("text_rejected", lang=sender._chatbot_reader_lang()))
        return True

    def action_chatbot_send_message(self):
        """The form to write to this person."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send a message to %(name)s", name=self.name),
            "res_model": "chatbot.send.message",
            "view_mode": "form",
            "target": "new",
            "context": {"default_sender_id": self.id},
        }

    def _chatbot_start_chat(self, operator_bot=None):
        """The current user writes to this person (*Live chat* on a closed dialog, *Message via bot* on a
        contact): their open dialog with the bot, or a new one, becomes the user's, and its conversation
        opens. The user must be an operator of the consultation bot (`operator_bot`, by default the one the
        sender's bot hands customers to)."""
        self.ensure_one()
        # sudo: an operator writes to a customer without write access to dialogs; the rights are checked here
        sender = self.sudo()
        bot = (operator_bot or sender.bot_id._chatbot_operator_bot()).sudo()
        if not bot:
            raise UserError(
                self.env._("%(bot)s hands customers to no consultation bot.", bot=sender.bot_id.name)
            )
        if not sender.channel_id.active:
            raise UserError(self.env._("The chat %(chat)s is archived.", chat=sender.channel_id.name))
        if sender.is_blocked:
            raise UserError(
                self.env._("%(name)s blocked the bot: messages cannot reach them.", name=sender.name)
            )
        operator = (
            self.env["chatbot.operator"]
            .sudo()
            .search([("bot_id", "=", bot.id), ("user_id", "=", self.env.uid)], limit=1)
        )
        if not operator:
            raise UserError(
                self.env._("Join %(bot)s first: only its operators start live chats.", bot=bot.name)
            )
        Dialog = self.env["chatbot.dialog"].sudo()
        dialog = Dialog.search(
            [("sender_id", "=", sender.id), ("bot_id", "=", sender.bot_id.id), ("state", "!=", "closed")],
            limit=1,
        )
        if dialog.state == "active" and dialog.operator_id and dialog.operator_id != operator:
            raise UserError(
                self.env._(
                    "%(operator)s is talking with %(name)s now (dialog %(code)s): ask them to transfer it to "
                    "you.",
                    operator=dialog.operator_id.name,
                    name=sender.name,
                    code=dialog.code,
                )
            )
        if not dialog:
            dialog = Dialog.create(
                {
                    "bot_id": sender.bot_id.id,
                    "sender_id": sender.id,
                    "partner_id": sender.partner_id.id,
                    "operator_bot_id": bot.id,
                }
            )
        if dialog.operator_id != operator:
            dialog._chatbot_assign(operator)
        return dialog._chatbot_action_open_conversation()
