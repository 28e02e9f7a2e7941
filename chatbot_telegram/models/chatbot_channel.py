import logging
import secrets
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime

from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

from odoo.addons.chatbot_base.models.chatbot_inbound import auto_commit
from odoo.addons.chatbot_base.tools.connector import (
    Connector,
    ConnectorError,
    MalformedEvent,
    RateLimits,
    RetryLater,
    TransientError,
)
from odoo.addons.chatbot_base.tools.cron_wakeup import cron_time_budget, wake_cron

from ..tools.bot_api import DOWNLOAD_LIMIT, BotApi
from ..tools.parse import parse_update, update_key

_logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
SYSTEM_GROUP = "base.group_system"
WEBHOOK_PATH = "/chatbot/telegram/"
POLL_SECONDS = 10  # one getUpdates long poll; a cron run does a bounded number of them
POLL_CRON = "chatbot_telegram.ir_cron_chatbot_telegram_poll"


# seconds of work on an update after which the customer sees "typing..."
TYPING_AFTER = 0.5


class TelegramConnector(Connector):
    """Telegram's side of the connector interface: updates parsed with python-telegram-bot's types,
    the Bot API called through a small synchronous client (tools/bot_api.py)."""

    provider = "telegram"
    label = "Telegram"

    def api(self, timeout=10):
        """The Bot API client of the channel. One per connector and timeout: a connector lives for one run of
        one worker's thread (a queue run), so its HTTP connection is kept alive from one message to the next
        instead of a new TCP connection per message."""
        clients = self.__dict__.setdefault("_api_clients", {})
        if timeout in clients:
            return clients[timeout]
        # sudo: the token is readable by system administrators only; the connector needs it to work
        channel_sudo = self.channel.sudo()
        if not channel_sudo.telegram_token:
            raise ConnectorError(self.env._("Channel %(name)s has no bot token.", name=self.channel.name))
        clients[timeout] = BotApi(
            channel_sudo.telegram_token, channel_sudo.telegram_api_url or DEFAULT_API_URL, timeout=timeout
        )
        return clients[timeout]

    def event_key(self, payload):
        return update_key(payload)

    def parse(self, payload):
        """The update's events, their files downloaded. A file the parser could not read stays in its message
        as a note (the text, caption and other files go on); an update that cannot be read at all raises
        MalformedEvent: it fails at once, never retried."""
        try:
            events = parse_update(payload, bot_username=self.channel.telegram_bot_username)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
            # the parser's messages never quote the payload
            raise MalformedEvent(str(error) or type(error).__name__) from None
        files = []
        for file in (file for event in events for file in event.files):
            if file.error:  # a file the parser could not read: nothing to download
                file.error = self.env._(
                    "A file the customer sent (Telegram %(kind)s) could not be read: it was left out.",
                    kind=file.name,
                )
            else:
                files.append(file)
        if files:
            api = self.api(timeout=30)
            for file in files:
                self._download(api, file)
        return events

    def _download(self, api, file):
        """Fill file.data, or file.error when Telegram cannot give it (too big, gone). A transient
        failure raises: the update is retried with back-off rather than stored without its file."""
        if file.size and file.size > DOWNLOAD_LIMIT:
            file.error = self.env._(
                "The customer sent %(name)s (%(size)s MB): bots cannot download files over 20 MB.",
                name=file.name,
                size=round(file.size / 1048576, 1),
            )
            return
        try:
            info = api.get_file(file.file_ref)
            file.data = api.download_file(info["file_path"])
        except TransientError:
            raise
        except ConnectorError as error:
            file.error = self.env._(
                "The file %(name)s could not be downloaded: %(error)s", name=file.name, error=error
            )

    def profile_photo(self, profile):
        try:
            return self.api().get_user_profile_photo(int(profile.external_id))
        except (ConnectorError, ValueError) as error:
            _logger.debug("channel %s: no profile photo: %s", self.channel.id, error)
            return None

    def send(self, message):
        if self.channel.state != "connected":
            raise ConnectorError(self.env._("Channel %(name)s is not connected.", name=self.channel.name))
        # sudo: the files of a message queued by a user who may send it
        attachments = [
            (attachment.name, attachment.mimetype, attachment.raw)
            for attachment in self.env["ir.attachment"].sudo().browse(message.attachment_ids).exists()
        ]
        try:
            return self.api().send(message, attachments)
        except RetryLater as error:
            # A 429 holds the whole bot in practice (TELEGRAM.md), whichever chat triggered it.
            raise RetryLater(str(error), error.retry_after, scope="channel") from None

    @contextmanager
    def working(self, chat_key):
        """ "typing..." in the customer's chat when the work on their update takes more than TYPING_AFTER
        seconds (a file to download, a slow handler); nothing for quick answers, which arrive first. Sent
        from a timer thread, outside the transaction: it is ephemeral, and a replayed one is harmless."""
        # sudo: the token is readable by system administrators only; read here, the thread has no ORM
        channel_sudo = self.channel.sudo()
        token = channel_sudo.telegram_token
        if not chat_key or str(chat_key).startswith("-") or not token:
            yield
            return
        api_url = channel_sudo.telegram_api_url or DEFAULT_API_URL
        channel_id = self.channel.id

        def typing():
            try:
                BotApi(token, api_url, timeout=5).send_chat_action(chat_key, "typing")
            except Exception as error:  # noqa: BLE001 - a hint for the customer must never break anything
                _logger.debug("channel %s: sendChatAction: %s", channel_id, error)

        timer = threading.Timer(TYPING_AFTER, typing)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def acknowledge(self, event):
        """Every pressed button is answered, or the customer's Telegram keeps spinning."""
        if event.kind == "button" and event.callback_id:
            try:
                self.api(timeout=5).answer_callback_query(event.callback_id)
            except ConnectorError as error:
                # A replayed transaction answers twice; Telegram refuses the second, which is harmless.
                _logger.debug("channel %s: answerCallbackQuery: %s", self.channel.id, error)

    def rate_limits(self):
        channel = self.channel
        per_second = 1000.0 if channel.telegram_paid_broadcast else channel.telegram_rate_limit or 30.0
        return RateLimits(per_second=per_second, per_chat_per_second=1.0, per_group_per_minute=20.0)

    def is_group_chat(self, chat_id):
        return str(chat_id).startswith("-")


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
