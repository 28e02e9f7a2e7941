from . import connector, cron_wakeup, prefetch
