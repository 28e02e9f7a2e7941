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
    ],
});
