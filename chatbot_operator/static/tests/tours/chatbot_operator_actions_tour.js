import { registry } from "@web/core/registry";

// Buttons of an operator and of a Bots administrator (tests/test_ui_actions.py): End in a dialog's
// conversation header, Decline under New chats, Approve as operator on a sender's form. No step waits
// for a bus notification (tour browsers do not get them reliably): each waits for what the button's own
// request changes on the page.

registry.category("web_tour.tours").add("chatbot_operator_end_tour", {
    url: "/odoo/discuss",
    steps: () => [
        {
            content: "The customer's dialog is in Discuss",
            trigger: ".o-mail-DiscussSidebar-item:contains('Halyna')",
            run: "click",
        },
        { trigger: ".o-mail-Message-body:contains('Please call me back')" },
        {
            content: "The dialog is open: the operator can answer",
            trigger: ".o-mail-Discuss .o-mail-Composer-input",
        },
        {
            content: "End the dialog from the conversation's header",
            trigger: ".o-mail-Discuss-header button[name='chatbot-end'][title='End the dialog']",
            run: "click",
        },
        {
            content: "A notice takes the composer's place",
            trigger: ".o-mail-Discuss .o_chatbot_dialog_closed:contains('This bot dialog is closed')",
        },
        {
            content: "No composer, no End or Transfer; Open the dialog stays",
            trigger:
                ".o-mail-Discuss:not(:has(.o-mail-Composer-input)):not(:has(button[name='chatbot-end']))" +
                ":not(:has(button[name='chatbot-transfer'])):has(button[name='chatbot-dialog'])",
        },
    ],
});

registry.category("web_tour.tours").add("chatbot_operator_decline_tour", {
    url: "/odoo/action-chatbot_operator.chatbot_dialog_action_new_chats",
    steps: () => [
        { content: "The offered dialog waits under New chats", trigger: ".o_data_row:contains('Stepan')" },
        {
            content: "Decline it",
            trigger: ".o_data_row:contains('Stepan') button[name=action_decline]",
            run: "click",
        },
        {
            content: "It leaves the list: it is offered to someone else",
            trigger: ".o_action_manager:not(:has(.o_data_row:contains('Stepan')))",
        },
    ],
});

registry.category("web_tour.tours").add("chatbot_operator_approve_tour", {
    url: "/odoo/action-chatbot_base.chatbot_bot_action",
    steps: () => [
        {
            content: "The consultation bot's senders, from its card",
            trigger: ".o_kanban_record:contains('Tour consultations') a[name=action_view_senders]",
            run: "click",
        },
        {
            content: "The list says whose senders they are",
            trigger: ".o_breadcrumb:contains('Tour consultations: Senders')",
        },
        {
            content: "The messenger user who wrote to the bot",
            trigger: ".o_list_view .o_data_row:contains('Bohdan') td[name=name]",
            run: "click",
        },
        { content: "Their form", trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains('Bohdan')" },
        {
            content: "Approve them as an operator",
            trigger: ".o_form_statusbar button[name=action_chatbot_approve]:contains('Approve as operator')",
            run: "click",
        },
        {
            content: "The request is approved and the button is gone",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Approved')",
        },
        { trigger: ".o_form_view:not(:has(button[name=action_chatbot_approve]))" },
    ],
});
