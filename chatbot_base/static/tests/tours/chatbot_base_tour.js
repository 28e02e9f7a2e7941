import { registry } from "@web/core/registry";

const card = ".o_kanban_record:contains('Tour bot')";

function openTourBot() {
    return [
        {
            content: "The Bots kanban shows the tour bot's figures: 1 operator, 1 dialog, 1 channel, 1 sender",
            trigger: `${card} a[name=action_view_operators]:contains('1')`,
        },
        { trigger: `${card} a[name=action_view_dialogs]:contains('1')` },
        { trigger: `${card} a[name=action_view_channels]:contains('1')` },
        { trigger: `${card} a[name=action_view_senders]:contains('1')` },
        {
            content: "Open the bot from its card",
            trigger: `${card} .o_chatbot_bot_title`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("chatbot_base_admin_tour", {
    url: "/odoo/action-chatbot_base.chatbot_bot_action",
    steps: () => [
        ...openTourBot(),
        { content: "The form opens", trigger: ".o_form_view .o_field_widget[name=name] input:value('Tour bot')" },
        { content: "Administrators see the Settings tab", trigger: ".o_notebook .nav-link:contains('Settings')", run: "click" },
        { trigger: ".o_notebook .o_field_widget[name=default_country_id]" },
    ],
});

registry.category("web_tour.tours").add("chatbot_base_manager_tour", {
    url: "/odoo/action-chatbot_base.chatbot_bot_action",
    steps: () => [
        ...openTourBot(),
        { content: "The form opens", trigger: ".o_form_view .o_field_widget[name=name] input:value('Tour bot')" },
        { content: "Managers have the Senders tab", trigger: ".o_notebook .nav-link:contains('Senders')" },
        {
            content: "Managers do not see the Settings tab",
            trigger: ".o_notebook .nav:not(:has(.nav-link:contains('Settings')))",
        },
    ],
});

registry.category("web_tour.tours").add("chatbot_base_user_tour", {
    url: "/odoo/action-chatbot_base.chatbot_bot_action",
    steps: () => [
        ...openTourBot(),
        {
            content: "Users land on the bot's dialogs, not on its settings",
            trigger: ".o_list_view .o_data_row:contains('Tour customer')",
        },
        {
            content: "Only the dialogs of the bot whose card was clicked",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Olena')))",
        },
        { content: "Users can open the Senders menu", trigger: ".o_main_navbar a:contains('Senders')", run: "click" },
        { trigger: ".o_list_view .o_data_row:contains('Tour customer')" },
    ],
});
