from . import test_access, test_cron_worker, test_i18n, test_inbound, test_outbound, test_partner, test_ui
