import { Component, onWillStart, useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { Dropdown } from "@web/core/dropdown/dropdown";
import { DropdownItem } from "@web/core/dropdown/dropdown_item";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";

/** The operator's status in the systray: only Active operators get new bot dialogs. */
export class ChatbotOperatorStatus extends Component {
    static template = "chatbot_operator.OperatorStatus";
    static components = { Dropdown, DropdownItem };
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.state = useState({
            is_operator: false,
            status: "active",
            availability: false,
            availability_label: "",
            bots: [],
            active_dialogs: 0,
        });
        // Not awaited: the systray renders with the web client, whose first render (and first action) would
        // otherwise wait for this call on every page load, operators or not.
        onWillStart(() => {
            this.load();
        });
        // Odoo's presence follows the web client a moment after it starts (and when the user goes away or
        // comes back): "Active, offline" read at start would be stale, so the state is read again
        this.busService = useService("bus_service");
        this.busService.addEventListener("connect", () => browser.setTimeout(() => this.reload(), 2000));
        this.busService.subscribe("bus.bus/im_status_updated", ({ partner_id }) => {
            if (partner_id === user.partnerId) {
                this.reload();
            }
        });
    }

    reload() {
        if (this.state.is_operator) {
            this.load();
        }
    }

    async load() {
        Object.assign(this.state, await this.orm.call("chatbot.operator", "chatbot_get_my_status", []));
    }

    /** Active, Inactive, or what keeps an Active operator from getting dialogs (chat limit, offline). */
    get label() {
        if (this.state.status !== "active") {
            return _t("Inactive");
        }
        return this.state.availability ? this.state.availability_label : _t("Active");
    }

    get dotClass() {
        if (this.state.status !== "active") {
            return "bg-danger";
        }
        return this.state.availability ? "bg-warning" : "bg-success";
    }

    get dialogsText() {
        return _t("%(count)s active dialog(s)", { count: this.state.active_dialogs });
    }

    get hint() {
        return this.state.availability === "full"
            ? _t("You get new dialogs again when you close one.")
            : _t("Odoo sees you offline: dialogs go to operators who are online.");
    }

    get title() {
        if (this.state.status !== "active") {
            return _t("Bots: you are Inactive and get no new dialogs");
        }
        return this.state.availability
            ? _t("Bots: %(state)s", { state: this.state.availability_label })
            : _t("Bots: you are Active and get new dialogs");
    }

    async setStatus(status) {
        Object.assign(
            this.state,
            await this.orm.call("chatbot.operator", "chatbot_set_my_status", [status])
        );
        this.notification.add(
            status === "active" ? _t("You are Active: you get new dialogs.") : _t("You are Inactive: no new dialogs."),
            { type: status === "active" ? "success" : "warning" }
        );
    }
}

registry.category("systray").add(
    "chatbot_operator.OperatorStatus",
    { Component: ChatbotOperatorStatus },
    { sequence: 30 }
);
