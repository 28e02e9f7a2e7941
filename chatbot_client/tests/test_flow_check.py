from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import ClientCase


@tagged("chatbot", "post_install", "-at_install")
class TestFlowCheck(ClientCase):
    def test_a_sound_flow_passes(self):
        self.flow(
            {"step_type": "question", "text": "Buy or ask?", "answers": [("Buy", 1), ("Ask", 2)]},
            {"step_type": "create_lead", "text": "Noted", "next": 3},
            {"step_type": "operator", "text": "Calling"},
            {"step_type": "end", "text": "Bye"},
        )
        self.assertFalse(self.bot.flow_problems)
        result = self.bot.action_check_flow()
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("4 steps", result["params"]["message"])

    def test_go_to_step_pointing_nowhere_is_refused(self):
        with self.assertRaisesRegex(
            ValidationError, 'Step "1. Go to step" is a "Go to step" step without the step'
        ):
            self.flow({"step_type": "goto"})

    def test_go_to_a_step_of_another_bot_is_refused(self):
        other = self.env["chatbot.bot"].create({"name": "Other", "bot_type": "client"})
        foreign = self.env["chatbot.step"].create({"bot_id": other.id, "text": "Elsewhere"})
        (step,) = self.flow({"step_type": "message", "text": "Here"})
        with self.assertRaisesRegex(ValidationError, 'Step "1. Here" goes to a step of another bot'):
            step.next_step_id = foreign

    def test_loop_without_input_is_refused_and_named(self):
        steps = self.flow(
            {"step_type": "message", "text": "Ping"},
            {"step_type": "message", "text": "Pong"},
        )
        with self.assertRaisesRegex(
            ValidationError, r'Step "1. Ping" loops without waiting.*1. Ping → 2. Pong → 1. Ping'
        ):
            steps[1].next_step_id = steps[0]

    def test_loop_through_a_question_is_fine(self):
        steps = self.flow(
            {"step_type": "question", "text": "Again?", "answers": [("Yes", 1), ("No", 2)]},
            {"step_type": "message", "text": "Once more"},
            {"step_type": "end", "text": "Bye"},
        )
        steps[1].next_step_id = steps[0]
        self.assertFalse(self.bot.flow_problems)

    def test_unreachable_step_and_other_problems_are_named(self):
        steps = self.flow(
            {"step_type": "question", "text": "Pick", "answers": [("A", 2)]},
            {"step_type": "message", "text": "Never shown"},
            {"step_type": "question", "text": "No answers"},
            {"step_type": "create_ticket", "text": "Ticket"},
        )
        problems = self.bot._chatbot_flow_problems()
        self.assertEqual(problems[steps[1].id], "No step leads here: the customer can never reach it.")
        self.assertEqual(problems[steps[2].id], "A question needs at least one answer.")
        self.assertEqual(problems[steps[3].id], "Choose the project of the tickets.")
        self.assertNotIn(steps[0].id, problems)
        self.assertEqual(steps[1].problem, "No step leads here: the customer can never reach it.")
        with self.assertRaises(UserError) as caught:
            self.bot.action_check_flow()
        self.assertIn("• 2. Never shown: No step leads here", str(caught.exception))
        steps[1].is_entry_point = True
        self.assertNotIn(steps[1].id, self.bot._chatbot_flow_problems(), "a broadcast may start there")

    def test_hand_over_without_operator_bot(self):
        (step,) = self.flow({"step_type": "operator", "text": "Calling"})
        self.bot.operator_bot_id = False
        self.assertIn("no operator bot", self.bot._chatbot_flow_problems()[step.id])
        dialog = self.say("/start")
        self.assertEqual(self.bot_texts(dialog), ["Calling", "Sorry, no operator available"])
        self.assertIn("the bot has no operator bot", dialog.flow_error)

    def test_input_stored_in_a_field_of_the_wrong_type(self):
        date_field = self.env["ir.model.fields"]._get("crm.lead", "date_deadline")
        with self.assertRaisesRegex(ValidationError, 'a phone answer cannot be stored in "Expected Closing"'):
            self.flow(
                {
                    "step_type": "input",
                    "input_type": "phone",
                    "text": "Phone?",
                    "lead_field_id": date_field.id,
                }
            )

    def test_variable_name_must_be_a_word(self):
        with self.assertRaisesRegex(ValidationError, "a variable name is one word"):
            self.flow({"step_type": "input", "text": "City?", "variable_name": "delivery city"})

    def test_operator_bot_must_be_an_operator_chat(self):
        other = self.env["chatbot.bot"].create({"name": "Other client", "bot_type": "client"})
        with self.assertRaisesRegex(ValidationError, "is not an Operator Chat bot"):
            self.bot.operator_bot_id = other
