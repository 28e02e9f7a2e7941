import base64
import io
import logging
import re

from PIL import Image

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.image import ImageProcess

from ..tools.connector import SenderProfile
from ..tools.i18n import odoo_lang, reader_lang
from ..tools.phone import normalize_phone

_logger = logging.getLogger(__name__)


class ChatbotSender(models.Model):
    """A person on one channel: who writes to the bot through one messenger account."""

    _name = "chatbot.sender"
    _description = "Sender"
    _order = "last_message_date desc nulls last, id desc"

    name = fields.Char(required=True)
    channel_id = fields.Many2one("chatbot.channel", required=True, ondelete="restrict", index=True)
    bot_id = fields.Many2one(related="channel_id.bot_id", store=True, index=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    provider = fields.Selection(related="channel_id.provider", string="Messenger")
    external_id = fields.Char(
        "Messenger id", required=True, readonly=True, help="The person's id in the messenger, as text."
    )
    chat_id = fields.Char(
        "Chat id", readonly=True, help="The private chat with the bot, as the messenger names it."
    )
    username = fields.Char()
    lang = fields.Char("Language", help="The language of the person's messenger, e.g. 'uk' or 'en'.")
    phone = fields.Char()
    email = fields.Char()
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="set null")
    is_blocked = fields.Boolean("Blocked", help="The person blocked the bot: nothing can be sent to them.")
    last_message_date = fields.Datetime(readonly=True)
    dialog_ids = fields.One2many("chatbot.dialog", "sender_id", "Dialogs")
    dialog_count = fields.Integer(compute="_compute_dialog_count")

    _sql_constraints = [
        ("external_id_unique", "UNIQUE(channel_id, external_id)", "A person appears once per channel."),
    ]

    def _compute_dialog_count(self):
        groups = self.env["chatbot.dialog"]._read_group(
            [("sender_id", "in", self.ids)], ["sender_id"], ["__count"]
        )
        by_sender = {sender.id: count for sender, count in groups}
        for sender in self:
            sender.dialog_count = by_sender.get(sender.id, 0)

    @api.depends("name", "username")
    def _compute_display_name(self):
        for sender in self:
            sender.display_name = f"{sender.name} (@{sender.username})" if sender.username else sender.name

    def action_view_dialogs(self):
        """The sender's dialogs."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("chatbot_base.chatbot_dialog_action")
        action.update(domain=[("sender_id", "=", self.id)], context={"default_sender_id": self.id})
        return action

    # ------------------------------------------------------------------------------------------
    # From a messenger profile
    # ------------------------------------------------------------------------------------------

    @api.model
    def _chatbot_get_or_create(self, channel, profile, chat_id=None):
        """The sender of `profile` on `channel`, created on first contact, and locked for this transaction.

        The row lock serialises the events of one person across workers: two first messages arriving at
        once make one sender, one partner and one dialog.
        """
        name = (profile.name or profile.username or profile.external_id)[:256]
        channel.flush_recordset(["bot_id"])
        channel.bot_id.flush_recordset(["company_id"])
        uid = self.env.uid
        now = fields.Datetime.now()
        # One statement creates the sender or touches it, and locks its row either way (a concurrent insert
        # of the same person waits on the unique index); xmax = 0 tells a new row from an updated one.
        self.env.cr.execute(
            """
            INSERT INTO chatbot_sender (channel_id, bot_id, company_id, external_id, chat_id, name, username,
                                        lang, is_blocked, last_message_date,
                                        create_uid, write_uid, create_date, write_date)
            SELECT c.id, c.bot_id, b.company_id, %s, %s, %s, %s, %s, false, %s, %s, %s,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM chatbot_channel c JOIN chatbot_bot b ON b.id = c.bot_id
             WHERE c.id = %s
            ON CONFLICT (channel_id, external_id) DO UPDATE SET last_message_date = EXCLUDED.last_message_date
            RETURNING (xmax = 0) AS chatbot_created, chatbot_sender.*,
                      (SELECT p.lang FROM res_partner p WHERE p.id = chatbot_sender.partner_id)
                          AS chatbot_partner_lang
            """,
            [
                profile.external_id,
                chat_id or profile.external_id,
                name,
                profile.username or None,
                profile.lang or None,
                now,
                uid,
                uid,
                channel.id,
            ],
        )
        row = self.env.cr.dictfetchone()
        sender = self.browse(row["id"])
        created = row.pop("chatbot_created")
        if created:
            self.env.invalidate_all()
            _logger.debug("channel %s: new sender %s", channel.id, sender.id)
        else:
            sender.invalidate_recordset(["last_message_date"])
        sender._chatbot_cache_row(row)
        if not created:
            sender._chatbot_update_profile(profile, chat_id)
        if profile.phone:
            # the partner is linked once, below, with the profile's picture
            sender._chatbot_set_phone(profile.phone, link_partner=False)
        if profile.email and not sender.email:
            sender.email = profile.email
        if created or not sender.partner_id:
            sender._chatbot_ensure_partner(photo=profile.photo)
        return sender

    def _chatbot_cache_row(self, row):
        """Put the sender's row, as the upsert returned it, into the cache, and the language of its contact
        (`chatbot_partner_lang`), read by every message the bot sends: two queries fewer per update.
        Values already in the cache (pending writes of this transaction) are kept."""
        cache = self.env.cache
        partner_lang = row.pop("chatbot_partner_lang", None)
        for name, value in row.items():
            field = self._fields.get(name)
            if (
                name != "id"
                and field is not None
                and field.store
                and field.column_type
                and not field.translate
            ):
                cache.insert_missing(self, field, [value])
        if row.get("partner_id"):
            partner = self.env["res.partner"].browse(row["partner_id"])
            cache.insert_missing(partner, partner._fields["lang"], [partner_lang])

    def _chatbot_update_profile(self, profile, chat_id=None):
        values = {}
        name = (profile.name or profile.username or "").strip()
        if name and name != self.name:
            values["name"] = name
        for key in ("username", "lang"):
            if getattr(profile, key) and getattr(profile, key) != self[key]:
                values[key] = getattr(profile, key)
        if chat_id and chat_id != self.chat_id:
            values["chat_id"] = chat_id
        if values:
            self.write(values)

    def _chatbot_normalize_phone(self, number):
        """`number` in E.164 (+380...), or None when it is not a valid phone number; a number without a
        country code is read as one of the bot's country."""
        self.ensure_one()
        return normalize_phone(number, self.bot_id._chatbot_phone_region())

    def _chatbot_set_phone(self, number, link_partner=True):
        """Keep the number (normalised when valid) and put it on the partner that has none; without a
        partner yet, look for one with this number (unless the caller links the partner itself)."""
        self.ensure_one()
        phone = self._chatbot_normalize_phone(number) or number.strip()
        if phone != self.phone:
            self.phone = phone
        if self.partner_id:
            # sudo: the processing user may not edit every contact; only an empty phone is filled
            partner_sudo = self.partner_id.sudo()
            if not partner_sudo.phone and not partner_sudo.mobile:
                partner_sudo.phone = phone
        elif link_partner and self.bot_id.create_partner:
            self._chatbot_ensure_partner()

    def _chatbot_find_partner(self):
        """An existing contact with the sender's phone number or e-mail, or an empty recordset."""
        self.ensure_one()
        Partner = self.env["res.partner"].sudo()  # sudo: matching must see every contact of the company
        company_domain = [("company_id", "in", [False, self.company_id.id])]
        if self.phone and self.phone.startswith("+"):
            national = re.sub(r"\D", "", self.phone)[-9:]
            self.env.cr.execute(
                """
                SELECT id FROM res_partner
                 WHERE active AND (regexp_replace(coalesce(phone, ''), '\\D', '', 'g') LIKE %s
                               OR regexp_replace(coalesce(mobile, ''), '\\D', '', 'g') LIKE %s)
                 ORDER BY id LIMIT 20
                """,
                [f"%{national}", f"%{national}"],
            )
            candidates = Partner.browse([r[0] for r in self.env.cr.fetchall()]).filtered_domain(
                company_domain
            )
            for partner in candidates:
                if any(
                    self._chatbot_normalize_phone(n) == self.phone
                    for n in (partner.phone, partner.mobile)
                    if n
                ):
                    return partner
        if self.email:
            partner = Partner.search([("email", "=ilike", self.email.strip()), *company_domain], limit=1)
            if partner:
                return partner
        return Partner.browse()

    def _chatbot_ensure_partner(self, photo=None):
        """Link the sender to a contact: an existing one with the same phone or e-mail, else a new one
        from the messenger profile (name, language, phone, picture) when the bot creates partners."""
        self.ensure_one()
        if self.partner_id or not self.bot_id.create_partner:
            return self.partner_id
        partner = self._chatbot_find_partner()
        if partner and photo and not partner.image_1920:
            picture = self._chatbot_picture(photo)
            if picture:
                partner.image_1920 = picture
        if not partner:
            values = {
                "name": self.name,
                "phone": self.phone or False,
                "email": self.email or False,
                "company_id": self.company_id.id,
                "comment": self.env._("Created from %(messenger)s.", messenger=self.channel_id.display_name),
            }
            lang = self._chatbot_odoo_lang()
            if lang:
                values["lang"] = lang
            photo = photo or self.channel_id._chatbot_connector().profile_photo(
                SenderProfile(external_id=self.external_id, name=self.name)
            )
            picture = self._chatbot_picture(photo) if photo else False
            if picture:
                values["image_1920"] = picture
            # sudo: the processing user creates contacts only here, for a new customer
            partner = self.env["res.partner"].sudo().create(values)
        self.partner_id = partner
        return partner

    def _chatbot_picture(self, photo):
        """The messenger's profile picture as a value of `image_1920`, or False when it is not an image
        Odoo can use: the contact is then made without it (logged), and the customer's message goes on."""
        try:
            # what image_1920 checks (a file PIL identifies, a sane resolution), then the pixels themselves:
            # a header followed by garbage would fail later, in the smaller copies Odoo derives from it
            ImageProcess(photo)
            with Image.open(io.BytesIO(photo)) as image:
                image.load()
        except (UserError, ValueError, OSError, Image.DecompressionBombError) as error:
            _logger.info("chatbot.sender %s: the profile picture is not a usable image (%s)", self.id, error)
            return False
        return base64.b64encode(photo)

    def _chatbot_reader_lang(self):
        """The Odoo language this person reads: their contact's, else their messenger's; None when neither
        is installed."""
        self.ensure_one()
        # sudo and the one column: the contact's row is wide (its language is cached with the sender's row)
        partner = self.partner_id.sudo().with_context(prefetch_fields=False)
        return reader_lang(self.env, partner.lang, self.lang)

    def _chatbot_odoo_lang(self):
        """The active Odoo language matching the messenger's language code ('uk' → 'uk_UA'), if any."""
        return odoo_lang(self.env, self.lang)
