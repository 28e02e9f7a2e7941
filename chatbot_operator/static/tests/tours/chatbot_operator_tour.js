import { registry } from "@web/core/registry";

const card = ".o_kanban_record:contains('Tour consultations')";

registry.category("web_tour.tours").add("chatbot_operator_join_tour", {
    url: "/odoo/action-chatbot_base.chatbot_bot_action",
    steps: () => [
        { content: "Join the consultation bot from its card", trigger: `${card} button.o_chatbot_join`, run: "click" },
        { content: "The button turns to Leave", trigger: `${card} button.o_chatbot_leave` },
        { content: "The systray shows the operator's status", trigger: ".o_chatbot_operator_status" },
    ],
});

registry.category("web_tour.tours").add("chatbot_operator_answer_tour", {
    url: "/odoo/discuss",
    steps: () => [
        {
            content: "The customer's dialog is in Discuss",
            trigger: ".o-mail-DiscussSidebar-item:contains('Olena')",
            run: "click",
        },
        { content: "with the customer's message", trigger: ".o-mail-Message-body:contains('Hello from a messenger')" },
        {
            content: "Answer",
            trigger: ".o-mail-Composer-input",
            run: "edit How can I help you, Olena?",
        },
        { trigger: ".o-mail-Composer-input", run: "press Enter" },
        {
            content: "The answer is posted",
            trigger: ".o-mail-Message-body:contains('How can I help you, Olena?')",
        },
        {
            content: "A canned response: type its shortcut",
            trigger: ".o-mail-Composer-input",
            run: "edit :onit",
        },
        { trigger: ".o-mail-Composer-suggestion:contains('onit')", run: "click" },
        { trigger: ".o-mail-Composer-send:enabled", run: "click" },
        {
            content: "Its text is posted",
            trigger: ".o-mail-Message-body:contains('Thank you for waiting, we are on it.')",
        },
        {
            content: "Type /transfer without a name",
            trigger: ".o-mail-Composer-input",
            run: "edit /transfer ",
        },
        { trigger: ".o-mail-Composer-send:enabled", run: "click" },
        {
            content: "Only the operator is told whom to name",
            trigger: ".o-mail-Message:contains('Write /transfer and an operator')",
        },
        {
            content: "Type /close",
            trigger: ".o-mail-Composer-input",
            run: "edit /close ",
        },
        { trigger: ".o-mail-Composer-send:enabled", run: "click" },
        {
            content: "The dialog ends: the customer's completion text is in the conversation",
            trigger: ".o-mail-Message-body:contains('Consultation completed')",
        },
        {
            content: "The closed dialog's conversation takes no more answers and has no dialog actions",
            trigger: ".o_chatbot_dialog_closed",
        },
        { trigger: ".o-mail-Discuss:not(:has(.o-mail-Composer-input)):not(:has(button[name='chatbot-transfer']))" },
    ],
});

registry.category("web_tour.tours").add("chatbot_operator_transfer_tour", {
    url: "/odoo/discuss",
    steps: () => [
        {
            content: "The customer's dialog is in Discuss",
            trigger: ".o-mail-DiscussSidebar-item:contains('Taras')",
            run: "click",
        },
        { trigger: ".o-mail-Message-body:contains('I need the sales department')" },
        {
            content: "The dialog's Transfer action in the conversation's header",
            trigger: "button[name='chatbot-transfer']",
            run: "click",
        },
        {
            content: "The form lists every operator with their state",
            trigger: ".modal .o_data_row:contains('Petro Colleague'):contains('Active')",
        },
        { trigger: ".modal .o_data_row:contains('Oksana Away'):contains('Inactive')" },
        { trigger: ".modal .o_field_widget[name=operator_id] input", run: "edit Petro" },
        {
            trigger: ".o-autocomplete--dropdown-item > a:contains('Petro Colleague')",
            run: "click",
        },
        { trigger: ".modal .o_field_widget[name=note] textarea", run: "edit Wants a refund for order 42" },
        { trigger: ".modal button[name=action_transfer]", run: "click" },
        {
            content: "Handed over",
            trigger: ".o_notification:contains('handed to Petro Colleague')",
        },
    ],
});

registry.category("web_tour.tours").add("chatbot_operator_accept_tour", {
    url: "/odoo/action-chatbot_operator.chatbot_dialog_action_new_chats",
    steps: () => [
        { content: "The offered dialog waits under New chats", trigger: ".o_data_row:contains('Mykola')" },
        {
            content: "Accept it",
            trigger: ".o_data_row:contains('Mykola') button[name=action_accept]",
            run: "click",
        },
        {
            content: "It leaves the list: it is the operator's now",
            trigger: ".o_action_manager:not(:has(.o_data_row:contains('Mykola')))",
        },
    ],
});
