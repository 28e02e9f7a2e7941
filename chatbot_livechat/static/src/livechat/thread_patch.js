import { Thread } from "@mail/core/common/thread_model";

import { patch } from "@web/core/utils/patch";

patch(Thread.prototype, {
    /** In a session a bot answers, the bot's answer is ready when the post returns: show it at once. */
    async post() {
        const message = await super.post(...arguments);
        if (this.channel_type === "livechat" && this.chatbotBotSession) {
            await this.fetchChatbotAnswers();
        }
        return message;
    },

    async fetchChatbotAnswers() {
        const after = this.newestPersistentMessage?.id;
        if (!after) {
            return;
        }
        const fetched = await this.fetchMessages({ after });
        for (const message of [...fetched].sort((a, b) => a.id - b.id)) {
            if (!this.messages.some((known) => known.eq(message))) {
                this.messages.push(message);
            }
        }
    },
});
