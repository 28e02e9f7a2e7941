"""Run odoo-bin with the given arguments and write the test results as JSON.

Usage: python odoo_test_runner.py REPORT.json [odoo-bin arguments...]

Odoo logs its test results; this wrapper also keeps them in a file that `./bots test` reads to print one
summary line for the Odoo tests and the pytest suite together.
"""

import json
import sys

import odoo
from odoo.modules.registry import Registry
from odoo.service import server


def main():
    report_path = sys.argv[1]
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    original = server.preload_registries

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
        totals["passed"] = max(totals["run"] - totals["failed"] - totals["errors"] - totals["skipped"], 0)
        if rc and not (totals["failed"] or totals["errors"]):
            totals["errors"] += 1  # the database failed to load: no test result can be trusted
        with open(report_path, "w", encoding="utf-8") as handle:
            json.dump(totals, handle)
        return rc

    server.preload_registries = preload_and_report
    odoo.cli.main()


if __name__ == "__main__":
    main()
