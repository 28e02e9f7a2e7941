import { Thread } from "@mail/core/common/thread_model";

import { markup } from "@odoo/owl";
import { escape } from "@web/core/utils/strings";
import { patch } from "@web/core/utils/patch";

// The operator commands of a bot dialog's conversation (channel_commands.js): typed there, they act on the
// dialog on the server and answer the operator with a text. The addons add theirs (chatbot_client: /lead,
// /ticket). Another addon's command of the same name (crm_livechat's /lead) keeps working elsewhere.
export const DIALOG_COMMANDS = new Set(["close", "transfer"]);

patch(Thread.prototype, {
    /** In a dialog's conversation its commands run on the dialog; what they say (closed, handed on, whom to
     * name, the lead made) shows at once to the operator who typed it, as a message only they see, like
     * Odoo's own /help. */
    async executeCommand(command, body = "") {
        const name = body.substring(1).split(/\s/)[0];
        if (!this.chatbotDialogId || !DIALOG_COMMANDS.has(name)) {
            return super.executeCommand(...arguments);
        }
        const result = await this.store.env.services.orm.call(
            "discuss.channel",
            "chatbot_execute_command",
            [[this.id], name],
            { body }
        );
        if (typeof result === "string" && result) {
            const message = this.store.Message.insert(
                {
                    author: this.store.odoobot,
                    body: markup(`<span class="o_mail_notification">${escape(result)}</span>`),
                    id: this.store.getLastMessageId() + 0.01,
                    is_note: true,
                    is_transient: true,
                    thread: this,
                },
                { html: true }
            );
            this.messages.push(message);
            this.transientMessages.push(message);
        }
        await this.refreshChatbotDialogState();
        return result;
    },

    /** The dialog may have ended (or moved on): its composer and actions follow its state. */
    async refreshChatbotDialogState() {
        if (!this.chatbotDialogId) {
            return;
        }
        const state = await this.store.env.services.orm.call("discuss.channel", "chatbot_dialog_state", [
            [this.id],
        ]);
        Object.assign(this, state);
    },
});
