from odoo.tests import tagged

from .common import ClientCase


@tagged("chatbot", "post_install", "-at_install")
class TestFlow(ClientCase):
    def sales_flow(self):
        """Hello → question (buy → phone → lead → operator | browse → end) → ..."""
        return self.flow(
            {"step_type": "message", "text": "Hello, {name}!"},
            {
                "step_type": "question",
                "text": "What brings you here?",
                "variable_name": "topic",
                "answers": [("Buy", 2), ("Just browsing", 5)],
            },
            {
                "step_type": "input",
                "input_type": "phone",
                "variable_name": "phone",
                "text": "Your phone number?",
            },
            {
                "step_type": "create_lead",
                "text": "Thanks! We will call {phone}.",
                "lead_team_id": self.team.id,
                "lead_source_id": self.source.id,
                "lead_user_id": self.salesperson.id,
            },
            {"step_type": "operator", "text": "Connecting you to a consultant."},
            {"step_type": "end", "text": "Bye!"},
        )

    def test_waits_for_start(self):
        self.sales_flow()
        dialog = self.say("hello")
        self.assertEqual(self.bot_texts(dialog), ["Press /start to talk."])
        self.assertFalse(dialog.step_id)

    def test_starts_at_once_without_waiting_for_start(self):
        steps = self.sales_flow()
        self.bot.wait_start_message = False
        dialog = self.say("hello")
        self.assertEqual(self.bot_texts(dialog), ["Hello, Customer!", "What brings you here?"])
        self.assertEqual(dialog.step_id, steps[1], "the first message starts the flow, it is not an answer")

    def test_question_buttons_and_wrong_answer(self):
        steps = self.sales_flow()
        dialog = self.say("/start")
        payload = self.last_out(dialog)
        self.assertEqual(
            payload["buttons"],
            [
                [
                    {
                        "label": "Buy",
                        "data": f"a:{steps[1].answer_ids[0].id}",
                        "url": "",
                        "request_phone": False,
                    }
                ],
                [
                    {
                        "label": "Just browsing",
                        "data": f"a:{steps[1].answer_ids[1].id}",
                        "url": "",
                        "request_phone": False,
                    }
                ],
            ],
        )
        dialog = self.say("what?")
        self.assertEqual(
            self.bot_texts(dialog)[-1],
            "Press /start to talk.\n\nWhat brings you here?",
            "not found, then asked again",
        )
        self.assertTrue(self.last_out(dialog)["buttons"], "the buttons come again")
        self.assertEqual(dialog.step_id, steps[1])
        dialog = self.say("just BROWSING")
        self.assertEqual(self.bot_texts(dialog)[-1], "Bye!", "an answer typed in counts as the button")
        self.assertEqual(dialog.state, "closed")
        self.assertEqual(dialog.close_reason, "flow")

    def test_an_old_button_does_not_answer_the_current_step(self):
        steps = self.sales_flow()
        dialog = self.say("/start")
        dialog = self.press(steps[1].answer_ids[0])
        self.assertEqual(dialog.step_id, steps[2])
        dialog = self.press(steps[1].answer_ids[1])
        self.assertEqual(dialog.step_id, steps[2], "a button of an earlier question is not an answer now")
        self.assertIn("does not look like a phone number", self.bot_texts(dialog)[-1])

    def test_phone_lead_and_hand_over(self):
        steps = self.sales_flow()
        self.say("/start")
        dialog = self.press(steps[1].answer_ids[0])
        payload = self.last_out(dialog)
        self.assertEqual(
            payload["keyboard"],
            [[{"label": "Share my phone number", "data": "", "url": "", "request_phone": True}]],
        )
        self.say("I will not tell")
        dialog = self.say("067 12")
        self.assertEqual(dialog.step_id, steps[2], "still asking: not a phone number")
        self.assertEqual(
            self.bot_texts(dialog)[-1],
            "That does not look like a phone number. Please write it again, e.g. +380 67 123 4567."
            "\n\nYour phone number?",
        )
        dialog = self.say("067 123 45 67")
        self.assertEqual(
            dialog.flow_variables["phone"], "+380671234567", "read as a Ukrainian number (company country)"
        )
        self.assertEqual(dialog.sender_id.phone, "+380671234567")
        lead = dialog.lead_id
        self.assertTrue(lead)
        self.assertEqual(lead.partner_id, dialog.partner_id)
        self.assertEqual(lead.user_id, self.salesperson, "the step's salesperson: the partner has none")
        self.assertEqual(lead.team_id, self.team)
        self.assertEqual(lead.source_id, self.source)
        self.assertEqual(lead.medium_id.name, "Fake messenger", "the messenger, as for a chat action's lead")
        self.assertIn("What brings you here? <b>Buy</b>", lead.description)
        self.assertIn("Your phone number? <b>+380671234567</b>", lead.description)
        self.assertIn("I will not tell", lead.description, "what the customer wrote is in the description")
        self.assertEqual(dialog.state, "active", "handed over to a free operator")
        self.assertEqual(dialog.operator_bot_id, self.operator_bot)
        self.assertEqual(dialog.operator_id, self.operators[0])
        texts = self.bot_texts(dialog)
        self.assertIn("Thanks! We will call +380671234567.", texts)
        self.assertEqual(
            texts[-3:],
            [
                "Connecting you to a consultant.",
                "Operator 1 connected to chat. Please start messaging!",
                "If you would like to end your consultation Press: /end",
            ],
        )
        after_phone = dialog.message_ids.filtered(lambda m: m.body == "Thanks! We will call +380671234567.")
        self.assertTrue(
            after_phone.outbound_id.payload["remove_keyboard"], "the share-phone keyboard goes away"
        )
        self.assertFalse(self.last_out(dialog)["remove_keyboard"], "once")
        notice = self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "=", lead.id),
                ("partner_ids", "in", self.salesperson.partner_id.id),
            ]
        )
        self.assertTrue(notice, "the salesperson is told the lead is theirs")

    def test_lead_salesperson_is_the_partners(self):
        steps = self.sales_flow()
        self.say("/start")
        dialog = self.dialog_of()
        dialog.partner_id.user_id = self.salesperson.copy({"login": "seller2", "name": "Petro Seller"})
        self.press(steps[1].answer_ids[0])
        dialog = self.say("+380 67 123 4567")
        self.assertEqual(dialog.lead_id.user_id.name, "Petro Seller")

    def test_lead_text_only_when_send_after_lead(self):
        steps = self.sales_flow()
        self.bot.send_after_lead = False
        self.say("/start")
        self.press(steps[1].answer_ids[0])
        dialog = self.say("+380671234567")
        self.assertTrue(dialog.lead_id)
        self.assertNotIn("Thanks! We will call +380671234567.", self.bot_texts(dialog))

    def test_shared_contact_answers_the_phone_step(self):
        steps = self.sales_flow()
        self.say("/start")
        self.press(steps[1].answer_ids[0])
        dialog = self.say(contact_phone="380671234567")
        self.assertEqual(dialog.flow_variables["phone"], "+380671234567")

    def test_start_restarts_the_flow(self):
        steps = self.sales_flow()
        self.say("/start")
        dialog = self.press(steps[1].answer_ids[0])
        self.assertEqual(dialog.step_id, steps[2])
        dialog = self.say("/start")
        self.assertEqual(dialog.step_id, steps[1])
        self.assertFalse(dialog.flow_variables)
        self.assertEqual(self.bot_texts(dialog)[-2:], ["Hello, Customer!", "What brings you here?"])

    def test_hand_over_queue_and_operator_answer(self):
        steps = self.sales_flow()
        self.operators.write({"status": "inactive"})
        self.say("/start")
        self.press(steps[1].answer_ids[0])
        dialog = self.say("+380671234567")
        self.assertEqual(dialog.state, "waiting")
        self.assertEqual(self.bot_texts(dialog)[-1], "Sorry, no operator available")
        dialog = self.say("are you there?")
        self.assertEqual(dialog.state, "waiting", "kept for the operator, not read by the flow")
        self.operators[1].with_user(self.users[1]).chatbot_set_my_status("active")
        self.assertEqual(dialog.operator_id, self.operators[1])
        dialog.discuss_channel_id.with_user(self.users[1]).message_post(
            body="Hello, I am Operator 2", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(self.bot_texts(dialog)[-1], "Hello, I am Operator 2")
        dialog = self.say("/end")
        self.assertEqual(dialog.state, "closed")
        self.assertEqual(self.bot_texts(dialog)[-1], "Consultation completed")

    def test_off_hours_the_flow_goes_on_instead_of_the_queue(self):
        steps = self.sales_flow()
        closed = self.env["resource.calendar"].create(
            {"name": "Never open", "tz": "UTC", "attendance_ids": [(5, 0, 0)]}
        )
        self.operator_bot.resource_calendar_id = closed
        self.bot.off_hours_step_id = steps[5]  # "Bye!"
        self.say("/start")
        self.press(steps[1].answer_ids[0])
        dialog = self.say("+380671234567")
        self.assertEqual(self.bot_texts(dialog)[-1], "Bye!", "the off-hours step, not the queue")
        self.assertFalse(dialog.operator_id)
        self.assertNotEqual(dialog.state, "waiting")
        # without the step: the queue, told when the team is back (never, here: "soon")
        self.bot.off_hours_step_id = False
        self.say("/start", chat=1002)
        self.press(steps[1].answer_ids[0], chat=1002)
        dialog = self.say("+380671234568", chat=1002)
        self.assertEqual(dialog.state, "waiting")
        self.assertIn("back soon", self.bot_texts(dialog)[-1])

    def test_the_transcript_shows_pressed_buttons_and_the_bots_name(self):
        steps = self.sales_flow()
        self.say("/start")
        dialog = self.press(steps[1].answer_ids[0])
        pressed = dialog.message_ids.filtered(lambda m: m.direction == "in")[-1]
        self.assertEqual((pressed.body, pressed.button_data), ("Buy", f"a:{steps[1].answer_ids[0].id}"))
        dialog = self.say("+380671234567")
        conversation = dialog.discuss_channel_id
        self.assertTrue(conversation, "handed over to an Odoo operator")
        posted = [
            (m.author_id.name, m.body.striptags() if hasattr(m.body, "striptags") else m.body)
            for m in conversation.message_ids.sorted("id")
            if m.message_type == "comment"
        ]
        self.assertIn((self.bot.name, "What brings you here?"), posted, "the bot's question, by the bot")
        customer = dialog.partner_id.name
        self.assertIn((customer, "Buy"), posted, "the customer's answer, by the customer")

    def test_the_operator_bots_card_counts_the_dialogs_it_served(self):
        steps = self.sales_flow()
        operator_bot = self.bot.operator_bot_id
        before = (operator_bot.dialog_count, operator_bot.sender_count)
        self.say("/start")
        self.press(steps[1].answer_ids[0])
        dialog = self.say("+380671234567")
        self.assertEqual(dialog.operator_bot_id, operator_bot)
        operator_bot.invalidate_recordset(["dialog_count", "open_dialog_count", "sender_count"])
        self.assertEqual(
            (operator_bot.dialog_count, operator_bot.sender_count), (before[0] + 1, before[1] + 1)
        )
        self.assertEqual(operator_bot.open_dialog_count, 1)
        listed = self.env["chatbot.dialog"].search(operator_bot.action_view_dialogs()["domain"])
        self.assertIn(dialog, listed)
        senders = self.env["chatbot.sender"].search(operator_bot.action_view_senders()["domain"])
        self.assertIn(dialog.sender_id, senders)

    def test_texts_of_the_client_bot_at_hand_over(self):
        self.flow({"step_type": "operator", "text": "Calling someone."})
        self.bot.text_how_to_end = "Type /end to finish."
        dialog = self.say("/start")
        self.assertEqual(
            self.bot_texts(dialog)[-1], "Type /end to finish.", "the bot the customer talks to speaks"
        )

    def test_input_stored_on_partner_and_lead(self):
        email_field = self.env["ir.model.fields"]._get("res.partner", "email")
        lead_date = self.env["ir.model.fields"]._get("crm.lead", "date_deadline")
        self.flow(
            {
                "step_type": "input",
                "input_type": "email",
                "text": "E-mail?",
                "partner_field_id": email_field.id,
                "variable_name": "email",
            },
            {"step_type": "input", "input_type": "date", "text": "When?", "lead_field_id": lead_date.id},
            {"step_type": "create_lead", "text": "Noted, {email}."},
            {"step_type": "end", "text": "Bye"},
        )
        self.say("/start")
        dialog = self.say("not an e-mail")
        self.assertIn("does not look like an e-mail address", self.bot_texts(dialog)[-1])
        dialog = self.say("  Olena@Example.com ")
        self.assertEqual(dialog.partner_id.email, "olena@example.com")
        dialog = self.say("31.12.2026")
        self.assertEqual(str(dialog.lead_id.date_deadline), "2026-12-31")
        self.assertIn("Noted, olena@example.com.", self.bot_texts(dialog))

    def test_number_input_and_variables_in_texts(self):
        self.flow(
            {"step_type": "input", "input_type": "number", "text": "How many?", "variable_name": "qty"},
            {"step_type": "end", "text": "{qty} pieces for {name}; {unknown} stays."},
        )
        self.say("/start")
        dialog = self.say("a few")
        self.assertEqual(self.bot_texts(dialog)[-1], "Please write a number.\n\nHow many?")
        dialog = self.say("1 200,5")
        self.assertEqual(self.bot_texts(dialog)[-1], "1200.5 pieces for Customer; {unknown} stays.")

    def test_ticket_as_task(self):
        project = self.env["project.project"].create({"name": "Support"})
        self.flow(
            {"step_type": "input", "text": "What happened?", "variable_name": "problem"},
            {
                "step_type": "create_ticket",
                "ticket_project_id": project.id,
                "lead_name": "Problem: {problem}",
                "text": "Ticket {ticket} created.",
            },
        )
        self.say("/start")
        dialog = self.say("The parcel is broken")
        task = dialog.task_id
        self.assertEqual(task.project_id, project)
        self.assertEqual(task.name, "Problem: The parcel is broken")
        self.assertEqual(task.partner_id, dialog.partner_id)
        self.assertFalse(task.user_ids, "not assigned to the technical user")
        self.assertEqual(task.tag_ids.mapped("name"), ["Chat"], "from a chat, as a chat action's ticket")
        self.assertIn(f"Ticket {task.id} created.", self.bot_texts(dialog))
        self.assertEqual(dialog.state, "closed", "the last step said its piece")

    def test_ticket_by_server_action(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "Note the dialog",
                "model_id": self.env["ir.model"]._get_id("chatbot.dialog"),
                "state": "code",
                "code": "record.partner_id.sudo().write({'comment': 'Ticket from %s' % record.code})",
            }
        )
        self.bot.is_sudo = True
        self.flow(
            {
                "step_type": "create_ticket",
                "ticket_target": "action",
                "ticket_action_id": action.id,
                "text": "Done.",
            },
            {"step_type": "end"},
        )
        dialog = self.say("/start")
        self.assertIn(f"Ticket from {dialog.code}", dialog.partner_id.comment)

    def test_a_failing_action_is_reported_and_the_flow_goes_on(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "Broken",
                "model_id": self.env["ir.model"]._get_id("chatbot.dialog"),
                "state": "code",
                "code": "raise UserError('the ticket system is down')",
            }
        )
        self.flow(
            {
                "step_type": "create_ticket",
                "ticket_target": "action",
                "ticket_action_id": action.id,
                "text": "Done.",
            },
            {"step_type": "operator", "text": "Calling an operator."},
        )
        dialog = self.say("/start")
        self.assertIn("the ticket system is down", dialog.flow_error)
        self.assertEqual(dialog.state, "active", "the customer is not stuck")

    def test_without_sudo_actions_run_with_the_technical_users_rights(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "Admin only",
                "model_id": self.env["ir.model"]._get_id("chatbot.dialog"),
                "state": "code",
                "code": "env['ir.config_parameter'].set_param('chatbot.test', 'x')",
            }
        )
        self.flow({"step_type": "create_ticket", "ticket_target": "action", "ticket_action_id": action.id})
        dialog = self.say("/start")
        self.assertFalse(self.env["ir.config_parameter"].get_param("chatbot.test"))
        self.assertTrue(dialog.flow_error, "refused and reported")
        self.bot.is_sudo = True
        dialog = self.say("/start", chat=1002)
        self.assertEqual(self.env["ir.config_parameter"].get_param("chatbot.test"), "x")

    def test_broadcast_button_starts_a_step(self):
        steps = self.sales_flow()
        steps[2].is_entry_point = True
        self.say("/start")
        dialog = self.say(kind="button", button=f"st:{steps[2].id}")
        self.assertEqual(dialog.step_id, steps[2])
        self.assertEqual(self.bot_texts(dialog)[-1], "Your phone number?")

    def test_flow_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("uk_UA")
        steps = self.flow(
            {"step_type": "question", "text": "Where are you?", "answers": [("Kyiv", None)]},
            {"step_type": "end"},
        )
        steps[0].with_context(lang="uk_UA").text = "Де ви?"
        steps[0].answer_ids.with_context(lang="uk_UA").name = "Київ"
        dialog = self.say("/start", user={"id": 1001, "name": "Olena", "lang": "uk"})
        self.assertEqual(self.bot_texts(dialog), ["Де ви?"])
        self.assertEqual(self.last_out(dialog)["buttons"][0][0]["label"], "Київ")
        english = self.say("/start", chat=1002, user={"id": 1002, "name": "John", "lang": "en"})
        self.assertEqual(self.bot_texts(english), ["Where are you?"])
        dialog = self.say("київ")
        self.assertEqual(dialog.state, "closed", "the translated label typed in is the answer")

    def test_the_contacts_language_wins_over_the_messengers(self):
        self.env["res.lang"]._activate_lang("uk_UA")
        steps = self.flow({"step_type": "question", "text": "Where are you?", "answers": [("Kyiv", None)]})
        steps[0].with_context(lang="uk_UA").text = "Де ви?"
        dialog = self.say("/start", user={"id": 1001, "name": "Olena", "lang": "uk"})
        self.assertEqual(self.bot_texts(dialog), ["Де ви?"])
        # a salesperson sets her contact to English in another transaction
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_partner SET lang = 'en_US' WHERE id = %s", [dialog.partner_id.id])
        self.env.invalidate_all()
        dialog = self.say("/start", user={"id": 1001, "name": "Olena", "lang": "uk"})
        self.assertEqual(self.bot_texts(dialog)[-1], "Where are you?")

    def test_bot_without_steps_hands_over(self):
        dialog = self.say("/start")
        self.assertEqual(dialog.state, "active")
        self.assertEqual(dialog.operator_id, self.operators[0])

    def test_operator_request_goes_to_the_linked_operator_bot(self):
        dialog = self.say("/operator")
        self.assertEqual(dialog.sender_id.operator_request_state, "pending")
        self.assertEqual(self.bot_texts(dialog), ["Please wait for approval you as consultant"])

    def test_duplicate_bot_copies_the_flow(self):
        steps = self.sales_flow()
        lviv = self.bot.copy({"name": "Lviv shop"})
        self.assertEqual(len(lviv.step_ids), 6)
        question = lviv.step_ids.filtered(lambda s: s.step_type == "question")
        self.assertEqual(question.answer_ids.next_step_id.bot_id, lviv, "answers lead to the copies")
        self.assertEqual(question.answer_ids.mapped("next_step_id.text"), ["Your phone number?", "Bye!"])
        self.assertEqual(len(steps), 6, "the original flow is untouched")
        self.assertEqual(lviv.operator_bot_id, self.operator_bot)
