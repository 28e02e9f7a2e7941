import os
import socket
from types import SimpleNamespace
from unittest.mock import patch

from odoo.service import server
from odoo.tests import BaseCase, tagged

from ..tools import cron_worker


@tagged("chatbot", "at_install", "-post_install")
class TestCronWorker(BaseCase):
    """A cron worker woken by a NOTIFY goes to work without Odoo's chorus pause; a periodic poll keeps it."""

    def worker(self, pid):
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)  # as Odoo's wake-up pipe: emptying it never waits
        notify_side, cursor_side = socket.socketpair()
        self.addCleanup(os.close, read_fd)
        self.addCleanup(os.close, write_fd)
        self.addCleanup(notify_side.close)
        self.addCleanup(cursor_side.close)
        connection = SimpleNamespace(fileno=cursor_side.fileno, poll=lambda: None)
        worker = SimpleNamespace(
            db_index=0, pid=pid, wakeup_fd_r=read_fd, dbcursor=SimpleNamespace(_cnx=connection)
        )
        return worker, notify_side

    def test_installed_over_odoo_18s_method(self):
        self.assertIs(server.WorkerCron.sleep, cron_worker.sleep)

    def test_a_notify_wakes_the_worker_without_the_pause(self):
        worker, notify = self.worker(pid=12389)  # Odoo's pause for this pid: 90 ms
        notify.send(b"x")  # PostgreSQL's NOTIFY makes the connection readable
        with patch.object(cron_worker.time, "sleep") as pause:
            cron_worker.sleep(worker)
        pause.assert_not_called()

    def test_a_periodic_poll_keeps_the_pause(self):
        worker, _notify = self.worker(pid=12350)  # pid % 10 == 0: no extra interval
        with patch.object(server, "SLEEP_INTERVAL", 0), patch.object(cron_worker.time, "sleep") as pause:
            cron_worker.sleep(worker)
        pause.assert_called_once()
        self.assertEqual(pause.call_args.args[0], 12350 / 100 % 0.1)

    def test_another_odoo_keeps_its_own_method(self):
        def other_sleep(self):
            return "theirs"

        with patch.object(server.WorkerCron, "sleep", other_sleep):
            self.assertFalse(cron_worker.install())
            self.assertIs(server.WorkerCron.sleep, other_sleep)
