import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

/**
 * Bot conversations pop up as chat windows when they are given to the operator (a bus notification). An
 * operator who was loading a page at that moment gets them when the web client starts.
 */
export const openSessionsService = {
    dependencies: ["mail.store", "ui"],
    start(env, { "mail.store": store, ui }) {
        if (ui.isSmall) {
            return;
        }
        rpc("/chatbot_livechat/open_sessions", {}, { silent: true }).then((data) => {
            const { Thread = [] } = store.insert(data);
            for (const thread of Thread) {
                if (!store.ChatWindow.get({ thread })) {
                    thread.openChatWindow();
                }
            }
        });
    },
};

registry.category("services").add("chatbot_livechat.open_sessions", openSessionsService);
