import { threadActionsRegistry } from "@mail/core/common/thread_actions";
import { dialogOf } from "@chatbot_operator/discuss/thread_actions";
import { DIALOG_COMMANDS } from "@chatbot_operator/discuss/thread_patch";

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// Creatio's chat actions in a bot dialog's conversation: a lead or a ticket made from the chat (the subject
// is the customer's first message, the description what they wrote before the first answer). The same as
// /lead and /ticket typed in the composer.
async function runCase(component, method) {
    const thread = dialogOf(component);
    const action = await component.env.services.orm.call("chatbot.dialog", method, [[thread.chatbotDialogId]]);
    component.env.services.action.doAction(action);
}

threadActionsRegistry
    .add("chatbot-lead", {
        condition: (component) => Boolean(dialogOf(component)),
        icon: "fa fa-fw fa-star",
        name: _t("Create lead"),
        open: (component) => runCase(component, "action_chatbot_create_lead"),
        sequence: 18,
        sequenceGroup: 5,
    })
    .add("chatbot-ticket", {
        condition: (component) => Boolean(dialogOf(component)),
        icon: "fa fa-fw fa-ticket",
        name: _t("Create ticket"),
        open: (component) => runCase(component, "action_chatbot_create_ticket"),
        sequence: 19,
        sequenceGroup: 5,
    });

// /lead and /ticket in the suite's conversations. crm_livechat (installed with the live chat and the CRM)
// has a /lead of its own for every conversation: the dialog's conversations run ours (thread_patch.js of
// chatbot_operator), so it is registered here only when no addon did, once every module has loaded.
const CONVERSATION_TYPES = ["group", "livechat"];
const COMMANDS = {
    lead: {
        channel_types: CONVERSATION_TYPES,
        help: _t("Make a CRM lead of this bot dialog (or show the one it has): /lead, or /lead title"),
        methodName: "execute_command_chatbot",
    },
    ticket: {
        channel_types: CONVERSATION_TYPES,
        help: _t("Make a ticket of this bot dialog (or show the one it has): /ticket, or /ticket title"),
        methodName: "execute_command_chatbot",
    },
};

registry.category("services").add("chatbot_client.dialog_commands", {
    start() {
        const commands = registry.category("discuss.channel_commands");
        for (const [name, command] of Object.entries(COMMANDS)) {
            DIALOG_COMMANDS.add(name);
            if (!commands.contains(name)) {
                commands.add(name, command);
            }
        }
    },
});
