from odoo import api, fields, models

ADMIN_GROUP = "chatbot_base.chatbot_base_group_admin"
MANAGER_GROUP = "chatbot_base.chatbot_base_group_manager"


class ChatbotBot(models.Model):
    """A bot: an "Operator Chat" (consultation bot routing customers to operators) or a "Client Chat"
    (communication bot running scripted dialogs). Later addons add their settings and tabs."""

    _name = "chatbot.bot"
    _description = "Bot"
    _order = "sequence, name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    bot_type = fields.Selection(
        [("operator", "Operator Chat"), ("client", "Client Chat")],
        string="Type",
        required=True,
        default="client",
        help="Operator Chat: routes customers to operators. Client Chat: runs scripted dialogs and hands the "
        "customer over to its operator bot.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    create_partner = fields.Boolean(
        "Create partner",
        default=True,
        help="Create a contact for every new customer from their messenger profile, or link the existing "
        "contact "
        "with the same phone number or e-mail.",
    )
    default_country_id = fields.Many2one(
        "res.country",
        "Country for phone numbers",
        groups=ADMIN_GROUP,
        help="Phone numbers written without a country code are read as numbers of this country "
        "(default: the company's country).",
    )
    channel_ids = fields.One2many("chatbot.channel", "bot_id", "Channels")
    sender_ids = fields.One2many("chatbot.sender", "bot_id", "Senders")
    dialog_ids = fields.One2many("chatbot.dialog", "bot_id", "Dialogs")
    operator_ids = fields.One2many("chatbot.operator", "bot_id", "Operators")
    operator_count = fields.Integer("Operator count", compute="_compute_counts")
    dialog_count = fields.Integer("Dialog count", compute="_compute_counts")
    open_dialog_count = fields.Integer("Open dialogs", compute="_compute_counts")
    channel_count = fields.Integer("Channel count", compute="_compute_counts")
    sender_count = fields.Integer("Sender count", compute="_compute_counts")

    def _compute_counts(self):
        """The five figures of the kanban cards: one grouped query per model for all the cards."""
        counts = {}
        for model, key in (
            ("chatbot.operator", "operator_count"),
            ("chatbot.channel", "channel_count"),
            ("chatbot.sender", "sender_count"),
        ):
            # sudo: figures on a card the user may see; the groups count records, they do not read them
            groups = self.env[model].sudo()._read_group([("bot_id", "in", self.ids)], ["bot_id"], ["__count"])
            counts[key] = {bot.id: count for bot, count in groups}
        dialogs = self._chatbot_dialog_figures()
        for bot in self:
            for key, by_bot in counts.items():
                bot[key] = by_bot.get(bot.id, 0)
            total, open_count, more_senders = dialogs.get(bot.id, (0, 0, 0))
            bot.dialog_count, bot.open_dialog_count = total, open_count
            bot.sender_count += more_senders

    def _chatbot_dialog_figures(self):
        """{bot id: (dialogs, open dialogs, senders of other bots it served)} in one query; chatbot_operator
        counts the dialogs an operator bot took over from client bots."""
        self.env["chatbot.dialog"].flush_model(["bot_id", "state"])
        self.env.cr.execute(
            """SELECT bot_id, count(*), count(*) FILTER (WHERE state != 'closed'), 0
                 FROM chatbot_dialog WHERE bot_id = ANY(%s) GROUP BY bot_id""",
            [self.ids],
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _chatbot_phone_region(self):
        """ISO code of the country used to read phone numbers without a country code."""
        self.ensure_one()
        # sudo: the setting is for administrators to change, but every dialog needs to read it
        country = self.sudo().default_country_id or self.company_id.country_id
        return country.code or None

    def _action_chatbot_list(self, model, name):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            f"chatbot_base.{model.replace('.', '_')}_action"
        )
        title = self.env._("%(bot)s: %(what)s", bot=self.name, what=name)
        # Odoo 18's web client titles the view (and its breadcrumb) with display_name, before name
        action.update(
            name=title,
            display_name=title,
            domain=[("bot_id", "=", self.id)],
            context={"default_bot_id": self.id, "search_default_bot_id": self.id},
        )
        return action

    def action_view_dialogs(self):
        """The bot's dialogs."""
        return self._action_chatbot_list("chatbot.dialog", self.env._("Dialogs"))

    def action_view_senders(self):
        """The bot's senders."""
        return self._action_chatbot_list("chatbot.sender", self.env._("Senders"))

    def action_view_channels(self):
        """The bot's channels."""
        return self._action_chatbot_list("chatbot.channel", self.env._("Channels"))

    def action_view_operators(self):
        """The bot's operators."""
        return self._action_chatbot_list("chatbot.operator", self.env._("Operators"))

    def action_open_bot(self):
        """A click on a kanban card: managers open the bot, users (who may not open a bot's settings,
        seed §1.1.1) its dialogs."""
        self.ensure_one()
        if self.env.user.has_group(MANAGER_GROUP):
            return {
                "type": "ir.actions.act_window",
                "res_model": "chatbot.bot",
                "res_id": self.id,
                "view_mode": "form",
                "views": [(False, "form")],
            }
        return self.action_view_dialogs()

    @api.model
    def _chatbot_processor(self):
        """The dedicated, inactive user that runs customer events: business code runs with its rights."""
        # not env.ref: its existence check is one query after every commit of the inbound queue
        _model, user_id = self.env["ir.model.data"]._xmlid_to_res_model_res_id(
            "chatbot_base.user_chatbot_processor", raise_if_not_found=True
        )
        return self.env["res.users"].browse(user_id)
