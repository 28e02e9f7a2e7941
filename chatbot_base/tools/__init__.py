from . import connector, cron_wakeup, cron_worker, prefetch, queue
