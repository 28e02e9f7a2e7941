import { registry } from "@web/core/registry";

// An operator whose Odoo speaks Ukrainian: the Bots app, the headset and the conversation read Ukrainian,
// and a Ukrainian customer's texts are Ukrainian in the conversation.
const card = ".o_kanban_record:contains('Tour consultations')";

registry.category("web_tour.tours").add("chatbot_operator_ukrainian_tour", {
    url: "/odoo/action-chatbot_base.chatbot_bot_action",
    steps: () => [
        { content: "The Bots menu", trigger: ".o_main_navbar .o_menu_brand:contains('Боти')" },
        {
            content: "Join the consultation bot: Приєднатися",
            trigger: `${card} button.o_chatbot_join:contains('Приєднатися')`,
            run: "click",
        },
        { content: "The button turns to Покинути", trigger: `${card} button.o_chatbot_leave:contains('Покинути')` },
        { content: "Open the headset", trigger: ".o_chatbot_operator_status", run: "click" },
        { content: "Choose Активний", trigger: ".o_chatbot_set_active:contains('Активний')", run: "click" },
        { content: "The headset says so", trigger: ".o_chatbot_status_label:contains('Активний')" },
    ],
});

registry.category("web_tour.tours").add("chatbot_operator_ukrainian_answer_tour", {
    url: "/odoo/discuss",
    steps: () => [
        {
            content: "The customer's dialog is in Discuss",
            trigger: ".o-mail-DiscussSidebar-item:contains('Оксана')",
            run: "click",
        },
        { content: "The bot greeted her in Ukrainian", trigger: ".o-mail-Message-body:contains('на зв’язку')" },
        { content: "The header's Transfer is Передати", trigger: "button[name='chatbot-transfer'][title='Передати']" },
        { content: "Answer", trigger: ".o-mail-Composer-input", run: "edit Добрий день, Оксано!" },
        { trigger: ".o-mail-Composer-input", run: "press Enter" },
        { trigger: ".o-mail-Message-body:contains('Добрий день, Оксано!')" },
        { content: "Type /close", trigger: ".o-mail-Composer-input", run: "edit /close " },
        { trigger: ".o-mail-Composer-send:enabled", run: "click" },
        {
            content: "The customer's completion text is Ukrainian",
            trigger: ".o-mail-Message-body:contains('Консультацію завершено')",
        },
        { content: "The conversation is closed", trigger: ".o_chatbot_dialog_closed" },
    ],
});
