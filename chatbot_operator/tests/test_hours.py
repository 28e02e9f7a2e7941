from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import OperatorCase

SATURDAY = datetime(2026, 12, 5, 10, 0)  # 10:00 UTC
MONDAY_OPENING = datetime(2026, 12, 7, 9, 0)


@tagged("chatbot", "post_install", "-at_install")
class TestWorkingHours(OperatorCase):
    """Issue 18.3: outside the operator bot's working hours the customer is told when the team is back and
    waits in the queue; the closed hours do not count against the max waiting time."""

    def setUp(self):
        super().setUp()
        self.calendar = self.env["resource.calendar"].create(
            {
                "name": "Support desk, 9-17 UTC",
                "tz": "UTC",
                "attendance_ids": [
                    (0, 0, {"name": f"Day {day}", "dayofweek": str(day), "hour_from": 9, "hour_to": 17})
                    for day in range(5)
                ],
            }
        )
        self.bot.write({"resource_calendar_id": self.calendar.id, "max_waiting_time": 30})

    def cron(self, at):
        with freeze_time(at):
            self.env["chatbot.dialog"]._cron_operator_queue()

    def test_off_hours_the_customer_waits_for_the_opening(self):
        with freeze_time(SATURDAY):
            dialog = self.start(1001)
        self.assertEqual(
            (dialog.state, dialog.operator_id.id), ("waiting", False), "operators are Active, but off"
        )
        self.assertEqual(
            self.texts_to(dialog)[-1],
            "Our team is away now and back Monday 09:00. You keep your place in the queue.",
        )
        self.cron(SATURDAY + timedelta(hours=5))
        self.cron(MONDAY_OPENING - timedelta(minutes=1))
        self.assertEqual(dialog.state, "waiting", "two days of closed hours are no waiting time")
        self.cron(MONDAY_OPENING + timedelta(minutes=1))
        self.assertEqual(dialog.state, "active", "the opening serves the queue")
        self.assertTrue(dialog.operator_id)

    def test_the_max_waiting_time_counts_from_the_opening(self):
        self.operators.write({"status": "inactive"})
        with freeze_time(SATURDAY):
            dialog = self.start(1001)
        self.cron(MONDAY_OPENING + timedelta(minutes=20))
        self.assertEqual(dialog.state, "waiting", "20 open minutes of 30")
        self.cron(MONDAY_OPENING + timedelta(minutes=31))
        self.assertEqual((dialog.state, dialog.close_reason), ("closed", "timeout"))

    def test_open_hours_route_as_always(self):
        with freeze_time(MONDAY_OPENING + timedelta(hours=1)):
            dialog = self.start(1001)
        self.assertEqual(dialog.state, "active")
