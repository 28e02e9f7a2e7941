"""A cron worker woken by a NOTIFY goes to work at once.

Odoo's prefork cron worker (odoo/service/server.py, `WorkerCron.sleep`) waits in `select()` for a NOTIFY or
the end of its poll interval, then sleeps `pid / 100 % 0.1` seconds more, whatever woke it: the "chorus
effect", so that workers woken together start apart. The suite's queues are woken by a NOTIFY after every
commit that gives them work (`cron_wakeup.wake_cron`), and a customer's reply waits for one wake-up: 0 to
100 ms more by the luck of the worker's pid, as much as all the rest of the reply's work (`./bots bench
latency`). Workers racing for the same jobs need no pause: Odoo acquires a job with `FOR NO KEY UPDATE SKIP
LOCKED`, the queues claim their rows likewise. So a worker woken by a NOTIFY (or a signal) skips the pause;
after a timeout (the periodic poll, where the chorus spreads the workers' polls) it keeps it.

The method replaces Odoo 18.0's `WorkerCron.sleep` and is otherwise the same; it is installed when the
addon is imported (in a cron worker, when it loads a registry), and only over the method it was written
for: another Odoo's `WorkerCron` keeps its own.
"""

import errno
import hashlib
import inspect
import logging
import select
import time

from odoo.service import server

_logger = logging.getLogger(__name__)

# the source of the method this module replaces (Odoo 18.0), so that a changed Odoo keeps its own
ODOO_SLEEP_SHA256 = "3e888a8b91c726bab38b489092bbb8a698cabfc57f7cee96427959f774ca8e72"


def sleep(self):
    """`WorkerCron.sleep` without the chorus pause after a NOTIFY (see the module's docstring)."""
    # Really sleep once all the databases have been processed.
    if self.db_index == 0:
        interval = server.SLEEP_INTERVAL + self.pid % 10  # chorus effect
        # simulate interruptible sleep with select(wakeup_fd, timeout)
        try:
            ready, _write, _error = select.select([self.wakeup_fd_r, self.dbcursor._cnx], [], [], interval)
            if not ready:
                time.sleep(self.pid / 100 % 0.1)  # a periodic poll: the workers' polls stay apart
            # clear pg_conn/wakeup pipe if we were interrupted
            self.dbcursor._cnx.poll()
            server.empty_pipe(self.wakeup_fd_r)
        except OSError as error:
            if error.args[0] != errno.EINTR:
                raise


def _source_digest(function):
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def install():
    """Put `sleep` in place of Odoo's `WorkerCron.sleep`, when that is the method it was written for."""
    current = server.WorkerCron.sleep
    if current is sleep:
        return True
    try:
        digest = _source_digest(current)
    except (OSError, TypeError):
        digest = None
    if digest != ODOO_SLEEP_SHA256:
        _logger.info("Odoo's WorkerCron.sleep is not the one of Odoo 18.0 this addon knows: left as it is")
        return False
    server.WorkerCron.sleep = sleep
    return True


install()
