import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// In a bot dialog's conversation, a Discuss group or (with chatbot_livechat) a live chat session: end the
// dialog, or hand it to another operator. Typed in the composer, they run on the server and are never posted
// (thread_patch.js sends them to chatbot_execute_command; elsewhere execute_command_chatbot says so).
const CONVERSATION_TYPES = ["group", "livechat"];

registry
    .category("discuss.channel_commands")
    .add("close", {
        channel_types: CONVERSATION_TYPES,
        help: _t("End this bot dialog (the customer gets the completion message)"),
        methodName: "execute_command_chatbot",
    })
    .add("transfer", {
        channel_types: CONVERSATION_TYPES,
        help: _t("Hand this bot dialog to another operator: /transfer name"),
        methodName: "execute_command_chatbot",
    });
