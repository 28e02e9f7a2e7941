import logging
import secrets
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime

from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

from odoo.addons.chatbot_base.tools.connector import ConnectorError, TransientError
from odoo.addons.chatbot_base.tools.cron_wakeup import cron_time_budget, wake_cron
from odoo.addons.chatbot_base.tools.queue import auto_commit

from ..tools.connector import DEFAULT_API_URL, TelegramConnector

_logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
SYSTEM_GROUP = "base.group_system"
WEBHOOK_PATH = "/chatbot/telegram/"
POLL_SECONDS = 10  # one getUpdates long poll; a cron run does a bounded number of them
POLL_CRON = "chatbot_telegram.ir_cron_chatbot_telegram_poll"


class ChatbotChannel(models.Model):
    _inherit = "chatbot.channel"

    telegram_token = fields.Char(
        "Bot token", groups=SYSTEM_GROUP, copy=False, help="The token BotFather gave for this bot."
    )
    # where the token goes (in the path of every Bot API call): system administrators only, see
    # _chatbot_system_fields; the *_shown twins show the addresses to the others, read-only
    telegram_api_url = fields.Char(
        "Bot API address",
        default=DEFAULT_API_URL,
        groups=SYSTEM_GROUP,
        help="Telegram's Bot API, or a self-hosted Bot API server (bigger files).",
    )
    telegram_api_url_shown = fields.Char(
        "Bot API address in use", compute="_compute_telegram_addresses_shown"
    )
    telegram_intake = fields.Selection(
        [("webhook", "Webhook"), ("polling", "Long polling")],
        "Receive updates by",
        default="webhook",
        help="Webhook: Telegram calls Odoo at once (needs a public HTTPS address). Long polling: Odoo asks "
        "Telegram every minute and keeps asking while there is traffic (for installs without public HTTPS).",
    )
    # where Telegram sends every update with the webhook's secret: system administrators only
    telegram_public_url = fields.Char(
        "Odoo's public address",
        default=lambda self: self.env["ir.config_parameter"].sudo().get_param("web.base.url"),
        groups=SYSTEM_GROUP,
        help="The HTTPS address where Telegram reaches this Odoo, e.g. https://erp.example.com",
    )
    telegram_public_url_shown = fields.Char(
        "Odoo's public address in use", compute="_compute_telegram_addresses_shown"
    )
    telegram_webhook_secret = fields.Char(groups=SYSTEM_GROUP, copy=False, readonly=True)
    telegram_webhook_url = fields.Char(
        "Webhook address", compute="_compute_telegram_webhook_url", groups=SYSTEM_GROUP
    )
    telegram_bot_username = fields.Char("Bot username", readonly=True, copy=False)
    telegram_bot_name = fields.Char("Bot name", readonly=True, copy=False)
    telegram_update_offset = fields.Char(
        compute="_compute_telegram_update_offset", help="The next getUpdates offset (long polling)."
    )
    telegram_pending_updates = fields.Integer("Pending updates", readonly=True, copy=False)
    telegram_last_error = fields.Char("Telegram's last error", readonly=True, copy=False)
    telegram_last_error_date = fields.Datetime("Last error on", readonly=True, copy=False)
    telegram_checked_date = fields.Datetime("Checked on", readonly=True, copy=False)
    telegram_rate_limit = fields.Float(
        "Messages per second",
        default=30.0,
        help="Telegram's overall limit for a bot is about 30 messages a second.",
    )
    telegram_paid_broadcast = fields.Boolean(
        "Paid broadcasts",
        help="Send with allow_paid_broadcast: up to 1000 messages a second, billed in Stars.",
    )

    @api.model
    def _chatbot_connector_classes(self):
        return {**super()._chatbot_connector_classes(), "telegram": TelegramConnector}

    @api.model
    def _chatbot_system_fields(self):
        # how updates arrive is part of the connection, which only system administrators make (Connect)
        return super()._chatbot_system_fields() | {
            "telegram_api_url",
            "telegram_public_url",
            "telegram_intake",
        }

    @api.depends_context("uid")
    def _compute_telegram_addresses_shown(self):
        # sudo: the addresses are no secret; who may change them is (system administrators only)
        for channel, channel_sudo in zip(self, self.sudo(), strict=True):
            channel.telegram_api_url_shown = channel_sudo.telegram_api_url
            channel.telegram_public_url_shown = channel_sudo.telegram_public_url

    @api.depends("telegram_public_url", "webhook_key")
    def _compute_telegram_webhook_url(self):
        for channel in self:
            base = (channel.telegram_public_url or "").rstrip("/")
            channel.telegram_webhook_url = f"{base}{WEBHOOK_PATH}{channel.webhook_key}" if base else False

    @api.constrains("telegram_rate_limit")
    def _check_telegram_rate_limit(self):
        for channel in self:
            if channel.provider == "telegram" and not 0 < channel.telegram_rate_limit <= 1000:
                raise UserError(self.env._("Messages per second must be between 0 and 1000."))

    # ------------------------------------------------------------------------------------------
    # Connection
    # ------------------------------------------------------------------------------------------

    def _telegram_check_rights(self):
        if not self.env.user.has_group(SYSTEM_GROUP):
            raise UserError(self.env._("Only system administrators can connect a Telegram bot."))
        for channel in self:
            if channel.provider != "telegram":
                raise UserError(self.env._("%(name)s is not a Telegram channel.", name=channel.name))

    @staticmethod
    def _telegram_max_connections():
        """Parallel connections Telegram may open: a few per HTTP worker, within Telegram's 1-100."""
        workers = tools.config.get("workers") or 1
        return max(5, min(100, 4 * workers))

    def action_telegram_connect(self):
        """Check the token (getMe), then register the webhook with a new secret, or switch to long
        polling. Nothing is saved unless Telegram accepted everything."""
        self._telegram_check_rights()
        for channel in self:
            connector = channel._chatbot_connector()
            try:
                api = connector.api()
                me = api.get_me()
                values = {
                    "telegram_bot_username": me.get("username"),
                    "telegram_bot_name": me.get("first_name"),
                    "state": "connected",
                    "status_message": False,
                    "telegram_last_error": False,
                    "telegram_last_error_date": False,
                }
                if channel.telegram_intake == "webhook":
                    url = channel.telegram_webhook_url
                    if not url or not url.startswith(("https://", "http://")):
                        raise UserError(
                            self.env._("Give Odoo's public address, e.g. https://erp.example.com")
                        )
                    secret = secrets.token_urlsafe(32)
                    api.set_webhook(url, secret, ALLOWED_UPDATES, self._telegram_max_connections())
                    values["telegram_webhook_secret"] = secret
                else:
                    api.delete_webhook()
                    values["telegram_webhook_secret"] = False
            except ConnectorError as error:
                raise UserError(
                    self.env._("Telegram refused: %(error)s", error=error)
                    if not isinstance(error, TransientError)
                    else self.env._("Telegram cannot be reached: %(error)s", error=error)
                ) from error
            channel.sudo().write(values)
            if channel.telegram_intake == "polling":
                wake_cron(self.env, POLL_CRON)
        return True

    def action_telegram_disconnect(self):
        """Remove the webhook; Telegram keeps undelivered updates for 24 hours."""
        self._telegram_check_rights()
        for channel in self:
            if channel.state == "connected":
                try:
                    channel._chatbot_connector().api().delete_webhook()
                except ConnectorError as error:
                    raise UserError(self.env._("Telegram refused: %(error)s", error=error)) from error
            channel.sudo().write({"state": "draft", "telegram_webhook_secret": False})
        return True

    def _chatbot_before_archive(self):
        super()._chatbot_before_archive()
        if self.provider != "telegram" or self.state != "connected":
            return
        # an archived chat answers Telegram 404; without its webhook Telegram stops sending at once.
        # sudo: the channel's own token, for whoever may archive the chat (not to read or change it)
        try:
            self.sudo()._chatbot_connector().api().delete_webhook()
        except ConnectorError as error:
            _logger.warning("channel %s: archived, its webhook left in place: %s", self.id, error)
        self.sudo().write({"state": "draft", "telegram_webhook_secret": False})

    def action_telegram_check_webhook(self):
        """Read the webhook's health from Telegram (getWebhookInfo)."""
        self._telegram_check_rights()
        for channel in self:
            channel._telegram_check_webhook(repair=False)
        return True

    def _telegram_check_webhook(self, repair=True):
        """Store getWebhookInfo's figures; re-register a webhook that drifted (another URL, none, or
        deleted by someone) when `repair`."""
        self.ensure_one()
        channel_sudo = self.sudo()
        api = self._chatbot_connector().api()
        try:
            info = api.get_webhook_info()
        except ConnectorError as error:
            channel_sudo.write({"status_message": str(error), "telegram_checked_date": fields.Datetime.now()})
            return False
        error_date = info.get("last_error_date")
        channel_sudo.write(
            {
                "telegram_pending_updates": info.get("pending_update_count", 0),
                "telegram_last_error": info.get("last_error_message") or False,
                "telegram_last_error_date": datetime.fromtimestamp(error_date, UTC).replace(tzinfo=None)
                if error_date
                else False,
                "telegram_checked_date": fields.Datetime.now(),
            }
        )
        drifted = info.get("url") != channel_sudo.telegram_webhook_url
        if drifted and repair and channel_sudo.telegram_webhook_secret:
            _logger.info("channel %s: the Telegram webhook drifted, registering it again", self.id)
            try:
                api.set_webhook(
                    channel_sudo.telegram_webhook_url,
                    channel_sudo.telegram_webhook_secret,
                    ALLOWED_UPDATES,
                    self._telegram_max_connections(),
                )
            except ConnectorError as error:
                channel_sudo.write({"state": "error", "status_message": str(error)})
                return False
        return not drifted

    @api.model
    def _cron_telegram_check_webhooks(self):
        """Check every connected webhook channel; repair drifted registrations."""
        channels = self.search(
            [("provider", "=", "telegram"), ("state", "=", "connected"), ("telegram_intake", "=", "webhook")]
        )
        for channel in channels:
            channel._telegram_check_webhook(repair=True)

    # ------------------------------------------------------------------------------------------
    # Long polling
    # ------------------------------------------------------------------------------------------

    def _compute_telegram_update_offset(self):
        # sudo: the polling state has no rights of its own to check; the offset is no secret
        offsets = self.env["chatbot.telegram.poll"].sudo()._offsets(self)
        for channel in self:
            offset = offsets.get(channel.id)
            channel.telegram_update_offset = str(offset) if offset else False

    @api.model
    def _cron_telegram_poll(self, time_budget=None, poll_seconds=POLL_SECONDS):
        """Long-poll every connected polling channel for one run (see `cron_time_budget`), store and process
        what arrives in that same run, then call the next run at once while a channel polls: a laptop without
        public HTTPS answers as fast as a webhook.

        The channels' getUpdates calls wait side by side in threads (HTTP only, no ORM); this thread stores
        each batch with its offset and commits, then processes the inbound queue and sends the replies (with
        one cron worker, a reply must not wait for the poll's run to end). No transaction is open while a
        long poll waits: nothing holds a snapshot that another job's write would make stale. A killed worker
        at worst asks Telegram again for updates, which are then recognised as already stored."""
        time_budget = cron_time_budget() if time_budget is None else time_budget
        started = time.monotonic()
        channels = self.search(
            [("provider", "=", "telegram"), ("state", "=", "connected"), ("telegram_intake", "=", "polling")]
        )
        if not channels:
            return 0
        offsets = self.env["chatbot.telegram.poll"].sudo()._offsets(channels)
        apis = {}
        for channel in channels:
            try:
                apis[channel.id] = channel._chatbot_connector().api(timeout=10)
            except ConnectorError as error:
                channel._telegram_poll_failed(error)
        if auto_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

        def left():
            return time_budget - (time.monotonic() - started)

        def poll(executor, channel_id):
            # Telegram's timeout is whole seconds; 0 is a short poll (the budget is nearly spent, or a test)
            timeout = int(min(poll_seconds, max(left() - 1, 0)))
            future = executor.submit(
                apis[channel_id].get_updates, offsets.get(channel_id), timeout, ALLOWED_UPDATES
            )
            waiting[future] = (channel_id, timeout)

        stored = 0
        waiting = {}
        polling = set()  # the channels whose getUpdates answered in this run
        with ThreadPoolExecutor(
            max_workers=len(apis) or 1, thread_name_prefix="chatbot-telegram-poll"
        ) as pool:
            for channel_id in apis:
                poll(pool, channel_id)
            while waiting:
                finished, _running = wait(waiting, return_when=FIRST_COMPLETED)
                for future in finished:
                    channel_id, timeout = waiting.pop(future)
                    channel = self.browse(channel_id)
                    try:
                        updates = future.result()
                    except ConnectorError as error:
                        channel._telegram_poll_failed(error)
                        continue
                    polling.add(channel_id)
                    if updates:
                        new, offsets[channel_id] = channel._telegram_store_polled(updates)
                        stored += new
                        self._telegram_process_polled(max(left(), 1))
                    # again while the budget lasts; an empty short poll ends the channel's run (no busy loop)
                    if left() > 0 and (updates or (timeout and left() > 1)):
                        poll(pool, channel_id)
        if polling:
            # while a channel polls, the next long poll starts at once (other due jobs run in between); a
            # channel that cannot poll tries again at the job's next minute
            wake_cron(self.env, POLL_CRON)
        return stored

    def _telegram_store_polled(self, updates):
        """Store one getUpdates batch and the next offset in one transaction, committed: after a crash
        Telegram resends the batch, and storing is idempotent. Returns how many updates were new, and the
        next offset."""
        self.ensure_one()
        stored = sum(1 for update in updates if self._chatbot_store_inbound(update))
        offset = max(int(update["update_id"]) for update in updates) + 1
        self.env["chatbot.telegram.poll"].sudo()._save_offset(self, offset)
        if self.status_message:
            try:
                with self.env.cr.savepoint():
                    self.sudo().write({"status_message": False})
            except TransactionRollbackError:
                # another job wrote the channel meanwhile; the batch matters, the stale message not
                _logger.debug("channel %s: the last polling error stays shown until the next batch", self.id)
        if auto_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return stored, offset

    @api.model
    def _telegram_process_polled(self, time_budget):
        """Process the inbound queue and send its replies now, in the poll's run: left to the inbound job, an
        update waits for another cron worker, and with one cron worker for the end of this run."""
        # the inbound run reports its progress to nobody (not as the poll job's)
        self.env["chatbot.inbound"].with_context(ir_cron_progress_id=False)._cron_process(
            time_budget=time_budget
        )

    def _telegram_poll_failed(self, error):
        """Show why the channel cannot poll (a 409: a webhook is set, or another program polls the bot)."""
        _logger.warning("channel %s: getUpdates failed: %s", self.id, error)
        try:
            with self.env.cr.savepoint():
                self.sudo().write({"status_message": str(error)})
            if auto_commit():
                self.env.cr.commit()  # pylint: disable=invalid-commit
        except TransactionRollbackError:
            self.env.cr.rollback()  # another job wrote the channel meanwhile: the next failure says it again
