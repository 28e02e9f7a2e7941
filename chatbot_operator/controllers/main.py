import logging
from datetime import timedelta

from odoo import fields, http
from odoo.http import request

from odoo.addons.web.controllers.session import Session

_logger = logging.getLogger(__name__)

# A session whose device log was refreshed this recently counts as still open elsewhere.
RECENT_SESSION = timedelta(hours=1)


class ChatbotSession(Session):
    @http.route()
    def logout(self, redirect="/odoo"):
        """An operator whose last session logs out becomes Inactive (no new dialogs) until they log in."""
        uid = request.session.uid
        if uid and request.db:
            try:
                self._chatbot_on_logout(uid, request.session.sid[:42])
            except Exception:  # a logout must never fail because of the bots
                _logger.exception("chatbot: could not update the operator status of user %s at logout", uid)
        return super().logout(redirect=redirect)

    def _chatbot_on_logout(self, uid, session_identifier):
        # the logout route runs on a read-only cursor: the status is written on a cursor of its own
        with request.env.registry.cursor() as cr:
            env = request.env(cr=cr, user=uid, su=True)
            cr.execute(
                """SELECT 1 FROM res_device_log
                    WHERE user_id = %s AND NOT revoked AND session_identifier != %s AND last_activity > %s
                    LIMIT 1""",
                [uid, session_identifier, fields.Datetime.now() - RECENT_SESSION],
            )
            if not cr.fetchone():
                env["chatbot.operator"]._chatbot_on_logout(env["res.users"].browse(uid))
