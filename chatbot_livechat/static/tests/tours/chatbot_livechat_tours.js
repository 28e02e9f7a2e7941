import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("chatbot_livechat_visitor_tour", {
    steps: () => [
        { content: "Open the live chat", trigger: ".o-livechat-root:shadow .o-livechat-LivechatButton", run: "click" },
        { trigger: ".o-livechat-root:shadow .o-mail-Composer-input", run: "edit Hello shop!" },
        { trigger: ".o-livechat-root:shadow .o-mail-Composer-input", run: "press Enter" },
        { content: "The bot asks its question", trigger: ".o-livechat-root:shadow .o-mail-Message:contains('How can we help?')" },
        {
            content: "Its answers are buttons: press one",
            trigger: ".o-livechat-root:shadow button.o_chatbot_livechat_answer:contains('Talk to a person')",
            run: "click",
        },
        { content: "The flow hands over", trigger: ".o-livechat-root:shadow .o-mail-Message:contains('Calling a consultant.')" },
        {
            content: "An operator takes the visitor",
            trigger: ".o-livechat-root:shadow .o-mail-Message:contains('Iryna Operator connected to chat')",
        },
    ],
});



registry.category("web_tour.tours").add("chatbot_livechat_operator_tour", {
    steps: () => [
        {
            content: "The visitor's session pops up as a chat window",
            trigger: ".o-mail-ChatWindow .o-mail-Message:contains('Hello shop!')",
        },
        { trigger: ".o-mail-ChatWindow .o-mail-Composer-input", run: "edit Hello from Iryna" },
        { trigger: ".o-mail-ChatWindow .o-mail-Composer-send:enabled", run: "click" },
        { trigger: ".o-mail-ChatWindow .o-mail-Message:contains('Hello from Iryna')" },
    ],
});

registry.category("web_tour.tours").add("chatbot_livechat_messenger_popup_tour", {
    steps: () => [
        {
            content: "The messenger customer's dialog pops up as a chat window",
            trigger: ".o-mail-ChatWindow .o-mail-Message:contains('Hi from a messenger')",
        },
        { trigger: ".o-mail-ChatWindow .o-mail-Composer-input", run: "edit Hello Olena, how can I help?" },
        { trigger: ".o-mail-ChatWindow .o-mail-Composer-send:enabled", run: "click" },
        { trigger: ".o-mail-ChatWindow .o-mail-Message:contains('Hello Olena, how can I help?')" },
    ],
});
