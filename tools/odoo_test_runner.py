"""Run odoo-bin with the given arguments and write the test results as JSON.

Usage: python odoo_test_runner.py REPORT.json [odoo-bin arguments...]

Odoo logs its test results; this wrapper also keeps them in a file that `./bots test` reads to print one
summary line for the Odoo tests and the pytest suite together. With ODOO_TEST_FAILURE_RETRIES set, Odoo
runs a failed test again; the tests that passed only then are listed under "retried".
"""

import json
import logging
import sys

import odoo
from odoo.modules.registry import Registry
from odoo.service import server

RETRY_PREFIX = "Retrying a failed test: "


class RetryLog(logging.Handler):
    """Collects the tests Odoo runs a second time (odoo.tests.common logs each one)."""

    def __init__(self):
        super().__init__()
        self.tests = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith(RETRY_PREFIX):
            self.tests.append(message[len(RETRY_PREFIX) :])


def main():
    report_path = sys.argv[1]
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    original = server.preload_registries
    retries = RetryLog()
    logging.getLogger("odoo.tests.common").addHandler(retries)

    def preload_and_report(dbnames):
        rc = original(dbnames)
        totals = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "run": 0}
        for dbname in dbnames or []:
            report = Registry.registries.get(dbname) and Registry(dbname)._assertion_report
            if not report:
                continue
            totals["run"] += report.testsRun
            totals["failed"] += report.failures_count
            totals["errors"] += report.errors_count
            totals["skipped"] += report.skipped
        totals["run"] -= len(retries.tests)  # Odoo counts a test it runs twice twice
        totals["passed"] = max(totals["run"] - totals["failed"] - totals["errors"] - totals["skipped"], 0)
        if rc and not (totals["failed"] or totals["errors"]):
            totals["errors"] += 1  # the database failed to load: no test result can be trusted
        totals["retried"] = retries.tests
        with open(report_path, "w", encoding="utf-8") as handle:
            json.dump(totals, handle)
        return rc

    server.preload_registries = preload_and_report
    odoo.cli.main()


if __name__ == "__main__":
    main()
