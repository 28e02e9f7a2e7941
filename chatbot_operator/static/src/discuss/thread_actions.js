import { threadActionsRegistry } from "@mail/core/common/thread_actions";

import { _t } from "@web/core/l10n/translation";

// The dialog's actions in its conversation's header (the chat window, Discuss), like Creatio's chat
// actions: end it, hand it on, open the dialog. The same as /close and /transfer typed in the composer.
export function dialogOf(component) {
    const thread = component.thread;
    return thread?.model === "discuss.channel" && thread.chatbotDialogId ? thread : null;
}

async function reload(component) {
    await dialogOf(component)?.refreshChatbotDialogState();
}

threadActionsRegistry
    .add("chatbot-end", {
        condition: (component) => dialogOf(component)?.chatbotDialogOpen,
        icon: "fa fa-fw fa-stop-circle-o",
        name: _t("End the dialog"),
        async open(component) {
            const thread = dialogOf(component);
            await component.env.services.orm.call("chatbot.dialog", "action_end", [[thread.chatbotDialogId]]);
            await reload(component);
            // the dialog is over: its window folds away (Discuss keeps it in the list, composer disabled)
            component.props.chatWindow?.fold();
        },
        sequence: 14,
        sequenceGroup: 5,
    })
    .add("chatbot-transfer", {
        condition: (component) => dialogOf(component)?.chatbotDialogOpen,
        icon: "fa fa-fw fa-exchange",
        name: _t("Transfer"),
        open(component) {
            const thread = dialogOf(component);
            component.env.services.action.doAction(
                {
                    type: "ir.actions.act_window",
                    name: _t("Transfer"),
                    res_model: "chatbot.transfer",
                    views: [[false, "form"]],
                    target: "new",
                    context: { default_dialog_id: thread.chatbotDialogId },
                },
                { onClose: () => reload(component) }
            );
        },
        sequence: 15,
        sequenceGroup: 5,
    })
    .add("chatbot-contact", {
        condition: (component) => Boolean(dialogOf(component)),
        icon: "fa fa-fw fa-user",
        name: _t("Open the contact"),
        async open(component) {
            const thread = dialogOf(component);
            const action = await component.env.services.orm.call("chatbot.dialog", "action_open_contact", [
                [thread.chatbotDialogId],
            ]);
            component.env.services.action.doAction(action);
        },
        sequence: 17,
        sequenceGroup: 5,
    })
    .add("chatbot-similar", {
        // Creatio: "N similar contacts" beside the chat; Odoo's merge keeps the dialog's contact
        condition: (component) => dialogOf(component)?.chatbotSimilarCount > 0,
        icon: "fa fa-fw fa-users text-warning",
        name: _t("Similar contacts: merge"),
        async open(component) {
            const thread = dialogOf(component);
            const action = await component.env.services.orm.call(
                "chatbot.dialog",
                "action_chatbot_merge_similar",
                [[thread.chatbotDialogId]]
            );
            component.env.services.action.doAction(action, { onClose: () => reload(component) });
        },
        sequence: 20,
        sequenceGroup: 5,
    })
    .add("chatbot-dialog", {
        condition: (component) => Boolean(dialogOf(component)),
        icon: "fa fa-fw fa-id-card-o",
        name: _t("Open the dialog"),
        open(component) {
            const thread = dialogOf(component);
            component.env.services.action.doAction({
                type: "ir.actions.act_window",
                res_model: "chatbot.dialog",
                res_id: thread.chatbotDialogId,
                views: [[false, "form"]],
            });
        },
        sequence: 16,
        sequenceGroup: 5,
    });
