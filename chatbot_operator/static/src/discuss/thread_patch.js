import { Thread } from "@mail/core/common/thread_model";

import { markup } from "@odoo/owl";
import { escape } from "@web/core/utils/strings";
import { patch } from "@web/core/utils/patch";

// the commands of a bot dialog's conversation (channel_commands.js) answer the operator with a text
const DIALOG_COMMANDS = new Set(["execute_command_close", "execute_command_transfer"]);

patch(Thread.prototype, {
    /** What a dialog's command says (closed, handed on, whom to name) shows at once to the operator who
     * typed it, as a message only they see, like Odoo's own /help. */
    async executeCommand(command, body = "") {
        const result = await super.executeCommand(...arguments);
        if (DIALOG_COMMANDS.has(command.methodName) && typeof result === "string" && result) {
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
        if (DIALOG_COMMANDS.has(command.methodName)) {
            await this.refreshChatbotDialogState();
        }
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
