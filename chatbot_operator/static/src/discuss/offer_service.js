import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

/**
 * Accept mode: a dialog offered to this operator rings and shows a notification with Accept and Decline
 * until they answer or the offer runs out (it is also listed under Bots > New chats).
 */
export const chatbotOfferService = {
    dependencies: ["bus_service", "notification", "orm", "action", "mail.sound_effects"],
    start(env, { bus_service, notification, orm, action, "mail.sound_effects": soundEffects }) {
        bus_service.subscribe("chatbot/offer", (payload) => {
            soundEffects.play("new-message");
            const close = notification.add(payload.message, {
                title: payload.title,
                type: "warning",
                sticky: true,
                className: "o_chatbot_offer",
                buttons: [
                    {
                        name: _t("Accept"),
                        primary: true,
                        onClick: async () => {
                            close();
                            await orm.call("chatbot.dialog", "action_accept", [[payload.dialogId]]);
                            action.doAction({
                                type: "ir.actions.act_window",
                                res_model: "chatbot.dialog",
                                res_id: payload.dialogId,
                                views: [[false, "form"]],
                            });
                        },
                    },
                    {
                        name: _t("Decline"),
                        onClick: async () => {
                            close();
                            await orm.call("chatbot.dialog", "action_decline", [[payload.dialogId]]);
                        },
                    },
                ],
            });
        });
        bus_service.start();
    },
};

registry.category("services").add("chatbot_operator.offer", chatbotOfferService);
