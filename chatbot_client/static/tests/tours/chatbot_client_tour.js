import { registry } from "@web/core/registry";

const card = ".o_kanban_record:contains('Tour shop')";

registry.category("web_tour.tours").add("chatbot_client_build_flow_tour", {
    url: "/odoo/action-chatbot_base.chatbot_bot_action",
    steps: () => [
        { content: "Open the client bot", trigger: `${card} .o_chatbot_bot_title`, run: "click" },
        { content: "Its Steps tab", trigger: ".o_notebook a:contains('Steps')", run: "click" },
        { content: "Add the first step", trigger: "button.o_chatbot_add_step", run: "click" },
        { trigger: ".o_field_widget[name=text] textarea", run: "edit Hello from the tour shop!" },
        { content: "Save it", trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
        { content: "Back to the bot", trigger: ".o_breadcrumb a:contains('Tour shop')", run: "click" },
        { trigger: ".o_notebook a:contains('Steps')", run: "click" },
        { trigger: ".o_field_widget[name=step_ids] .o_data_row:contains('Hello from the tour shop!')" },
        { content: "Add a question", trigger: "button.o_chatbot_add_step", run: "click" },
        { trigger: ".o_field_widget[name=step_type] select", run: 'select "question"' },
        { trigger: ".o_field_widget[name=text] textarea", run: "edit Buy or ask?" },
        { content: "Its first answer", trigger: ".o_field_widget[name=answer_ids] .o_field_x2many_list_row_add a", run: "click" },
        { trigger: ".o_field_widget[name=answer_ids] .o_data_row [name=name] input", run: "edit Buy" },
        { content: "Its second answer", trigger: ".o_field_widget[name=answer_ids] .o_field_x2many_list_row_add a", run: "click" },
        { trigger: ".o_field_widget[name=answer_ids] .o_data_row:eq(1) [name=name] input", run: "edit Ask" },
        { content: "Save the question", trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
        { content: "Back to the bot", trigger: ".o_breadcrumb a:contains('Tour shop')", run: "click" },
        { trigger: ".o_notebook a:contains('Steps')", run: "click" },
        { content: "The answers show in the list", trigger: ".o_field_widget[name=step_ids] .o_data_row:contains('Buy | Ask')" },
        { content: "Check the flow", trigger: "button.o_chatbot_check_flow", run: "click" },
        { content: "It is fine", trigger: ".o_notification:contains('is fine: 2 steps')" },
    ],
});

registry.category("web_tour.tours").add("chatbot_client_chat_actions_tour", {
    url: "/odoo/discuss",
    steps: () => [
        {
            content: "The customer's dialog is in Discuss",
            trigger: ".o-mail-DiscussSidebar-item:contains('Marta')",
            run: "click",
        },
        { trigger: ".o-mail-Message-body:contains('The left leg is missing')" },
        {
            content: "Type /ticket: a ticket of the dialog, told to the operator only",
            trigger: ".o-mail-Composer-input",
            run: "edit /ticket ",
        },
        { trigger: ".o-mail-Composer-send:enabled", run: "click" },
        { trigger: ".o-mail-Message:contains('is linked to dialog')" },
        {
            content: "The chat action Create lead in the conversation's header",
            trigger: "button[name='chatbot-lead']",
            run: "click",
        },
        {
            content: "The lead opens, titled after the customer's first message",
            trigger: ".o_breadcrumb .active:contains('My sofa arrived broken')",
        },
    ],
});
