import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// In a bot dialog's conversation: end the dialog, or hand it to another operator.
registry
    .category("discuss.channel_commands")
    .add("close", {
        channel_types: ["group"],
        help: _t("End this bot dialog (the customer gets the completion message)"),
        methodName: "execute_command_close",
    })
    .add("transfer", {
        channel_types: ["group"],
        help: _t("Hand this bot dialog to another operator: /transfer name"),
        methodName: "execute_command_transfer",
    });
