"""What the inbound and outbound queues (and the jobs that feed them) share: how often a row is tried, how
long it waits between tries, and whether a run commits as it goes."""

import threading

MAX_ATTEMPTS = 8


def backoff(attempts):
    """Seconds to wait before attempt number `attempts + 1`: 10 s, 20 s, 40 s ... at most one hour."""
    return min(10 * 2 ** max(attempts - 1, 0), 3600)


def auto_commit():
    """Queues commit per item in cron workers, never inside tests (the test transaction is rolled back)."""
    return not getattr(threading.current_thread(), "testing", False)
