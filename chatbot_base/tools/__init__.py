from . import connector, cron_wakeup, cron_worker, i18n, po_rules, prefetch, queue
