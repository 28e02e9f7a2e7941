from odoo import api, models
from odoo.exceptions import UserError
from odoo.osv import expression


class ResPartner(models.Model):
    """*Message via bot* (seed 002, "initiate a chat"): from a contact, or a record with a contact, write to
    them in a chat where they wrote to a bot before."""

    _inherit = "res.partner"

    def _chatbot_reachable_senders(self):
        """The contact's messenger accounts a message can reach: an active chat, not blocked."""
        self.ensure_one()
        # sudo: where the contact wrote is shown to the user who writes to them; the chats are not
        return (
            self.env["chatbot.sender"]
            .sudo()
            .search(
                [("partner_id", "=", self.id), ("channel_id.active", "=", True), ("is_blocked", "=", False)],
                order="last_message_date desc, id desc",
            )
            .with_env(self.env)
        )

    def _chatbot_unreachable_reason(self):
        """Why no message can reach the contact through a bot, for the user who tried."""
        self.ensure_one()
        # sudo: the contact's accounts in every chat, archived ones included, to say why
        senders = (
            self.env["chatbot.sender"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "=", self.id)])
        )
        if not senders:
            return self.env._(
                "%(name)s never wrote to a bot: a bot can only write to people who wrote to it first.",
                name=self.name,
            )
        if all(sender.is_blocked for sender in senders):
            return self.env._("%(name)s blocked the bot: messages cannot reach them.", name=self.name)
        return self.env._(
            "The chats where %(name)s wrote are archived: %(chats)s.",
            name=self.name,
            chats=", ".join(senders.channel_id.mapped("name")),
        )

    def action_chatbot_message(self):
        """One contact: a dialog with the current user as operator in the chat where they wrote (the user
        picks the chat when there are several). Several contacts: the broadcast form, prefilled with them."""
        partners = self.exists()
        if not partners:
            raise UserError(self.env._("Choose the contact to write to."))
        if len(partners) > 1:
            return partners._chatbot_broadcast_action()
        senders = partners._chatbot_reachable_senders()
        if not senders:
            raise UserError(partners._chatbot_unreachable_reason())
        if len(senders) == 1:
            return senders._chatbot_start_chat()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Message %(name)s via a bot", name=partners.name),
            "res_model": "chatbot.start.chat",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": partners.id},
        }

    @api.model
    def _chatbot_message_records(self, records):
        """*Message via bot* on records with a contact (leads, tickets): their contacts."""
        partners = records.mapped("partner_id")
        if not partners:
            raise UserError(
                self.env._(
                    "%(records)s has no contact to write to.",
                    records=", ".join(records.mapped("display_name")),
                )
            )
        return partners.action_chatbot_message()

    def _chatbot_broadcast_action(self):
        """A new broadcast to these contacts, in the bot most of them wrote to."""
        # sudo: which bots the contacts wrote to, to preselect one
        senders = self.env["chatbot.sender"].sudo().search([("partner_id", "in", self.ids)])
        bots = senders.bot_id
        bot = max(bots, key=lambda b: len(senders.filtered(lambda s, b=b: s.bot_id == b)), default=bots)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Broadcast"),
            "res_model": "chatbot.broadcast",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_name": self.env._("Message to %(count)s contacts", count=len(self)),
                "default_bot_id": bot.id or False,
                "default_recipient_domain": repr([("partner_id", "in", self.ids)]),
                "default_partner_domain": repr([("id", "in", self.ids)]),
            },
        }

    def _chatbot_similar_partners(self):
        """Contacts that may be the same person (Creatio's search for similar contacts when a chat starts):
        the same normalised phone or e-mail, the same name, or the same messenger username in another chat.
        At most 20, of the contact's company or shared."""
        self.ensure_one()
        # sudo: the search must see every contact of the company, as the matching of new senders does
        Partner = self.env["res.partner"].sudo()
        domains = []
        if self.phone_sanitized:
            domains.append([("phone_sanitized", "=", self.phone_sanitized)])
        if self.email_normalized:
            domains.append([("email_normalized", "=", self.email_normalized)])
        if len((self.name or "").strip()) >= 3:
            domains.append([("name", "=ilike", self.name.strip())])
        usernames = [u for u in self.sudo().chatbot_sender_ids.mapped("username") if u]
        if usernames:
            domains.append(
                [
                    (
                        "chatbot_sender_ids",
                        "any",
                        [("username", "in", usernames), ("partner_id", "!=", self.id)],
                    )
                ]
            )
        if not domains:
            return Partner.browse()
        return Partner.search(
            [
                *expression.OR(domains),
                ("id", "!=", self.id),
                ("company_id", "in", [False, self.sudo().company_id.id]),
            ],
            limit=20,
            order="id",
        )
