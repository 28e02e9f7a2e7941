import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("chatbot_livechat_visitor_sees_answer_tour", {
    steps: () => [
        { content: "The visitor's conversation with the bot", trigger: ".o-mail-Message:contains('How can we help?')" },
        { content: "The operator joined", trigger: ".o-mail-Message:contains('Iryna Operator connected to chat')" },
        { content: "The visitor sees the operator's answer", trigger: ".o-mail-Message:contains('Hello from Iryna')" },
    ],
});
