import { Message } from "@mail/core/common/message";

import { patch } from "@web/core/utils/patch";

patch(Message.prototype, {
    /** The answer buttons a bot's message carries, on the newest message of a live chat only. */
    get chatbotButtons() {
        const message = this.props.message;
        const thread = this.props.thread;
        if (!message.chatbotButtons?.length || thread?.channel_type !== "livechat") {
            return [];
        }
        return thread.newestPersistentMessage?.eq(message) ? message.chatbotButtons : [];
    },

    /** A pressed answer is the visitor's message: the bot reads it as the answer. */
    answerChatbotButton(button) {
        return this.props.thread.post(button.label);
    },
});
