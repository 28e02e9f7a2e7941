import base64
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.connector import OutboundMessage
from ..tools.prefetch import prefetch_fields

_logger = logging.getLogger(__name__)


class ChatbotDialog(models.Model):
    """A conversation between a sender and a bot. A sender has at most one open dialog per bot."""

    _name = "chatbot.dialog"
    _description = "Dialog"
    _order = "last_activity_date desc, id desc"
    _rec_name = "code"

    code = fields.Char(required=True, readonly=True, copy=False, default="/", index=True)
    bot_id = fields.Many2one("chatbot.bot", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="bot_id.company_id", store=True, index=True)
    sender_id = fields.Many2one("chatbot.sender", required=True, ondelete="cascade", index=True)
    channel_id = fields.Many2one(related="sender_id.channel_id", store=True, string="Chat")
    provider = fields.Selection(related="sender_id.provider", string="Messenger", store=True)
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="set null")
    customer_user_id = fields.Many2one(
        "res.users",
        "User",
        compute="_compute_customer_user_id",
        help="The Odoo user of the customer's contact, when the sender was linked to one.",
    )
    state = fields.Selection(
        [
            ("bot", "With the bot"),
            ("waiting", "Waiting for an operator"),
            ("active", "With an operator"),
            ("closed", "Closed"),
        ],
        default="bot",
        required=True,
        index=True,
    )
    is_closed = fields.Boolean("Closed", compute="_compute_is_closed", store=True)
    operator_id = fields.Many2one("chatbot.operator", index="btree_not_null", ondelete="set null")
    operator_user_id = fields.Many2one(related="operator_id.user_id", string="Operator user")
    first_reply_date = fields.Datetime("First reply", readonly=True, help="The operator's first answer.")
    last_customer_date = fields.Datetime("Last customer message", readonly=True)
    last_operator_date = fields.Datetime("Last operator message", readonly=True)
    last_activity_date = fields.Datetime(
        "Last activity", readonly=True, index=True, default=fields.Datetime.now
    )
    close_date = fields.Datetime("Closed on", readonly=True)
    message_ids = fields.One2many("chatbot.dialog.message", "dialog_id", "Messages")
    parent_id = fields.Many2one(
        "chatbot.dialog",
        "Transferred from",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The dialog this one carries on: a transfer ends a dialog and a child dialog goes on with the "
        "whole history.",
    )
    child_ids = fields.One2many("chatbot.dialog", "parent_id", "Carried on as", readonly=True)
    history_message_ids = fields.Many2many(
        "chatbot.dialog.message",
        compute="_compute_history_message_ids",
        string="Whole history",
        help="The messages of this dialog and of the dialogs it carries on (transfers).",
    )
    message_count = fields.Integer(compute="_compute_message_stats")
    failed_message_count = fields.Integer("Undelivered", compute="_compute_message_stats")

    def init(self):
        # One open dialog per sender and bot, whatever the number of workers opening it.
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS chatbot_dialog_open_unique "
            "ON chatbot_dialog (sender_id, bot_id) "
            "WHERE state != 'closed'"
        )

    @api.depends("state")
    def _compute_is_closed(self):
        for dialog in self:
            dialog.is_closed = dialog.state == "closed"

    @api.depends("parent_id", "message_ids")
    def _compute_history_message_ids(self):
        for dialog in self:
            dialog.history_message_ids = dialog._chatbot_history()

    @api.depends("partner_id")
    def _compute_customer_user_id(self):
        for dialog in self:
            # sudo: users of the Bots app may not read res.users; only the link is shown
            dialog.customer_user_id = dialog.partner_id.sudo().user_ids[:1]

    def _compute_message_stats(self):
        Message = self.env["chatbot.dialog.message"]
        totals = dict(Message._read_group([("dialog_id", "in", self.ids)], ["dialog_id"], ["__count"]))
        failed = dict(
            Message._read_group(
                [("dialog_id", "in", self.ids), ("outbound_id.state", "=", "failed")],
                ["dialog_id"],
                ["__count"],
            )
        )
        for dialog in self:
            dialog.message_count = totals.get(dialog, 0)
            dialog.failed_message_count = failed.get(dialog, 0)

    @api.depends("code", "sender_id.name")
    def _compute_display_name(self):
        for dialog in self:
            dialog.display_name = f"{dialog.code} {dialog.sender_id.name or ''}".strip()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("code", "/") == "/":
                # sudo: the sequence is technical; users who may create dialogs may number them
                vals["code"] = self.env["ir.sequence"].sudo().next_by_code("chatbot.dialog") or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------------------------------
    # Inbound
    # ------------------------------------------------------------------------------------------

    @api.model
    def _chatbot_get_or_open(self, sender):
        """The open dialog of `sender` with its bot, or a new one. The caller holds the sender's row lock,
        so two workers cannot both open one."""
        # the columns the handlers read, in the same query (one fewer per update)
        dialog = self.search_fetch(
            [("sender_id", "=", sender.id), ("bot_id", "=", sender.bot_id.id), ("state", "!=", "closed")],
            prefetch_fields(self),
            limit=1,
        )
        if dialog:
            if dialog.partner_id != sender.partner_id and sender.partner_id:
                dialog.partner_id = sender.partner_id
            return dialog
        return self.create(
            {"bot_id": sender.bot_id.id, "sender_id": sender.id, "partner_id": sender.partner_id.id}
        )

    def _chatbot_receive(self, event):
        """Store a customer's event in the dialog, then hand it to the dialog's handler."""
        self.ensure_one()
        now = fields.Datetime.now()
        if event.kind == "edit":
            message = self.env["chatbot.dialog.message"].search(
                [
                    ("dialog_id.sender_id", "=", self.sender_id.id),
                    ("direction", "=", "in"),
                    ("external_id", "=", event.message_id),
                ],
                limit=1,
                order="id desc",
            )
            if message:
                message.write({"body": event.text, "is_edited": True})
                self._chatbot_on_customer_edit(message, event)
                return message
        message = self.env["chatbot.dialog.message"].create(
            {
                "dialog_id": self.id,
                # the related stored fields, given: no UPDATE after the INSERT to compute them
                "bot_id": self.bot_id.id,
                "company_id": self.company_id.id,
                "direction": "in",
                "author_kind": "customer",
                "date": now,
                "body": self._chatbot_event_text(event),
                "button_data": event.button_data or False,
                "external_id": event.message_id or False,
                "attachment_ids": [(6, 0, self._chatbot_store_files(event.files))],
                **self._chatbot_inbound_message_values(event),
            }
        )
        self.write({"last_customer_date": now, "last_activity_date": now})
        self._chatbot_on_customer_event(message, event)
        return message

    def _chatbot_inbound_message_values(self, event):
        """Hook: more values of the dialog message that stores the customer's `event` (a connector addon
        keeps what its messenger says of it)."""
        return {}

    def _chatbot_event_text(self, event):
        """The message's text as the operator reads it: the customer's words, or what the message was (a
        command, a phone, a place); a file that could not be kept is noted below the text."""
        notes = [f.error for f in event.files if f.error]
        if event.text:
            return "\n".join([event.text, *notes])
        if event.command:
            return f"/{event.command} {event.command_args}".strip()
        if event.contact_phone:
            return self.env._("Shared phone number: %(phone)s", phone=event.contact_phone)
        if event.location:
            return self.env._("Location: %(lat)s, %(lon)s", lat=event.location[0], lon=event.location[1])
        if event.button_data:
            # the pressed button, as the customer sees it: the transcript shows their answer
            return self._chatbot_button_label(event.button_data) or self.env._(
                "Pressed a button (%(data)s)", data=event.button_data
            )
        return "\n".join(notes) or False

    def _chatbot_button_label(self, data):
        """The label of the button carrying `data` among the last messages the bot sent in this dialog."""
        self.ensure_one()
        sent = (
            self.env["chatbot.outbound"]
            .sudo()
            .search_fetch(
                [("dialog_id", "=", self.id), ("kind", "=", "send")], ["payload"], order="id desc", limit=20
            )
        )
        for row in sent:
            for line in (row.payload or {}).get("buttons") or []:
                for button in line:
                    if button.get("data") == data:
                        return button.get("label") or ""
        return ""

    def _chatbot_store_files(self, files):
        attachments = self.env["ir.attachment"]
        for file in files:
            if file.data is None:
                continue
            # sudo: the processing user attaches the customer's files to the dialog it handles
            attachments |= (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": file.name,
                        "datas": base64.b64encode(file.data),
                        "mimetype": file.mimetype,
                        "res_model": self._name,
                        "res_id": self.id,
                    }
                )
            )
        return attachments.ids

    def _chatbot_on_customer_event(self, message, event):
        """Hook for the dialog's handler (client flow, operator session): a new customer message or button."""

    def _chatbot_on_customer_edit(self, message, event):
        """Hook: the customer edited an earlier message."""

    def _chatbot_relay_to_group(self, message):
        """Post the customer's `message` into the operators' group of the dialog's channel. Connectors with
        operators' groups implement it; returns the message, or an empty recordset when there is no group."""
        return self.env["chatbot.dialog.message"]

    # ------------------------------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------------------------------

    def _chatbot_send(
        self,
        text="",
        author_kind="bot",
        buttons=None,
        keyboard=None,
        attachments=None,
        remove_keyboard=False,
        author_user=None,
        delivered=False,
        from_conversation=False,
    ):
        """Write to the customer: the dialog records the message and queues it for the messenger (sent after
        this transaction commits); the one road of every message to a customer. `delivered`: the customer has
        it already (an operator wrote in a website visitor's own live chat session), the dialog only records
        it. `from_conversation`: it was written in the operator's conversation, which shows it already.

        The addons add their part through the hooks, in this order: `_chatbot_track_keyboard` (the client
        flow's reply keyboard), `_chatbot_deliver` (the outbound queue; the website live chat posts at once)
        and `_chatbot_show_in_conversation` (the operator's Discuss conversation)."""
        self.ensure_one()
        if self.sender_id.is_blocked:
            raise UserError(
                self.env._("%(name)s blocked the bot: messages cannot reach them.", name=self.sender_id.name)
            )
        attachments = attachments or self.env["ir.attachment"]
        outbound_message = OutboundMessage(
            chat_id=self.sender_id.chat_id or self.sender_id.external_id,
            text=text or "",
            buttons=buttons or [],
            keyboard=keyboard or [],
            remove_keyboard=remove_keyboard,
            attachment_ids=attachments.ids,
        )
        self._chatbot_track_keyboard(outbound_message)
        now = fields.Datetime.now()
        message = self.env["chatbot.dialog.message"].create(
            {
                "dialog_id": self.id,
                "bot_id": self.bot_id.id,
                "company_id": self.company_id.id,
                "direction": "out",
                "author_kind": author_kind,
                "author_user_id": author_user.id if author_user else False,
                "date": now,
                "body": text,
                "attachment_ids": [(6, 0, attachments.ids)],
            }
        )
        if not delivered:
            self._chatbot_deliver(message, outbound_message)
        values = {"last_activity_date": now}
        if author_kind == "operator":
            values["last_operator_date"] = now
            if not self.first_reply_date:
                values["first_reply_date"] = now
        self.write(values)
        if not from_conversation:
            self._chatbot_show_in_conversation(message)
        return message

    def _chatbot_track_keyboard(self, outbound_message):
        """Hook: adjust the keyboard of a message about to be sent (chatbot_client removes the share-phone
        keyboard of its flow once it is no longer needed)."""

    def _chatbot_deliver(self, message, outbound_message):
        """Queue the dialog `message` for the messenger as `outbound_message`."""
        message.outbound_id = self.env["chatbot.outbound"]._chatbot_enqueue(
            self.channel_id, outbound_message, dialog=self, sender=self.sender_id
        )

    def _chatbot_show_in_conversation(self, message):
        """Hook: show a message sent to the customer where the operator works (chatbot_operator: the
        dialog's Discuss conversation)."""

    def _chatbot_on_operator_message(
        self, text, operator=None, attachments=None, delivered=False, from_conversation=False
    ):
        """An operator answered (from Discuss, a private chat with the bot, an operators' group): the
        answer goes to the customer (see `_chatbot_send` for `delivered` and `from_conversation`).
        chatbot_operator extends this (first reply, status)."""
        self.ensure_one()
        return self._chatbot_send(
            text,
            author_kind="operator",
            attachments=attachments,
            author_user=operator.user_id if operator else None,
            delivered=delivered,
            from_conversation=from_conversation,
        )

    def _chatbot_operator_command(self, command, args=""):
        """An operator typed the command `/<command> <args>` where they answer this dialog (a conversation,
        a topic of the operators' group). Returns what the operator is told, or None when `command` is no
        operator command (chatbot_operator adds them: /close, /end, /transfer). A command is never sent to
        the customer."""
        return None

    def _chatbot_take(self, operator):
        """A member of the operators' group takes the dialog of a topic (the Take button): `operator` is the
        bot's operator who pressed it, or an empty recordset when the member is none. Returns what the topic
        is told (chatbot_operator makes the dialog theirs)."""
        return None

    def action_close(self):
        """Close the dialog."""
        self.filtered(lambda d: d.state != "closed").write(
            {"state": "closed", "close_date": fields.Datetime.now()}
        )
        return True

    def action_view_messages(self):
        """The dialog's messages, with those of the dialogs it carries on."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.display_name,
            "res_model": "chatbot.dialog.message",
            "view_mode": "list,form",
            "domain": [("dialog_id", "in", self._chatbot_lineage().ids)],
        }

    # ------------------------------------------------------------------------------------------
    # Transfers: a dialog and the child dialogs that carry it on
    # ------------------------------------------------------------------------------------------

    def _chatbot_lineage(self):
        """This dialog and the dialogs it carries on (its parent, the parent's parent…), newest first."""
        self.ensure_one()
        lineage = self
        dialog = self.parent_id
        while dialog and dialog not in lineage:
            lineage |= dialog
            dialog = dialog.parent_id
        return lineage

    def _chatbot_history(self):
        """The messages of the dialog's lineage, oldest first: what the operator who carries it on reads."""
        self.ensure_one()
        return (
            self.env["chatbot.dialog.message"]
            .sudo()
            .search([("dialog_id", "in", self._chatbot_lineage().ids)], order="date, id")
            .with_env(self.env)
        )

    def _chatbot_current(self):
        """The dialog that carries this one on now: itself, or its newest descendant after transfers (a
        button or a forum topic of the parent still acts on the customer's dialog)."""
        self.ensure_one()
        dialog, seen = self, self.browse()
        while dialog.child_ids and dialog not in seen:
            seen |= dialog
            dialog = dialog.child_ids.sorted("id")[-1]
        return dialog

    def _chatbot_child_values(self):
        """The values of the child dialog that carries this one on after a transfer; the addons add what
        follows the customer (the conversation, the forum topic, the flow's answers and records)."""
        self.ensure_one()
        return {
            "bot_id": self.bot_id.id,
            "sender_id": self.sender_id.id,
            "partner_id": self.partner_id.id,
            "parent_id": self.id,
            "last_customer_date": self.last_customer_date,
        }
