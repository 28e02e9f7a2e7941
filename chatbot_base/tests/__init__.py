from . import test_access, test_cron_worker, test_inbound, test_outbound, test_partner, test_ui
