import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("chatbot_telegram_bots_admin_channel_tour", {
    steps: () => [
        {
            content: "A Bots administrator reads where the token goes",
            trigger: ".o_field_widget[name=telegram_api_url_shown]:contains('https://bots-api.example.org')",
        },
        { trigger: ".o_field_widget[name=telegram_public_url_shown]:contains('https://erp.example.org')" },
        {
            content: "but has no field to change it",
            trigger: ".o_form_view:not(:has(.o_field_widget[name=telegram_api_url] input))",
        },
        { trigger: ".o_form_view:not(:has(.o_field_widget[name=telegram_public_url] input))" },
        {
            content: "nor how updates arrive",
            trigger: ".o_field_widget[name=telegram_intake] input:disabled",
        },
        { content: "nor a Connect button", trigger: ".o_form_view:not(:has(button[name=action_telegram_connect]))" },
        { content: "and is told who can", trigger: ".o_form_view:contains('Only system administrators change')" },
    ],
});

registry.category("web_tour.tours").add("chatbot_telegram_sysadmin_channel_tour", {
    steps: () => [
        {
            content: "A system administrator changes the Bot API address",
            trigger: ".o_field_widget[name=telegram_api_url] input",
            run: "edit https://self-hosted.example.org",
        },
        { trigger: ".o_form_button_save", run: "click" },
        { content: "Saved", trigger: ".o_form_saved" },
    ],
});
