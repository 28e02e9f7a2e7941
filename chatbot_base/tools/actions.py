"""Window actions the suite's buttons return."""


def notification(message, kind="success", close=False):
    """The web client shows `message` as a notification (`kind`: success, warning, danger, info); with
    `close`, the dialog box the button was in closes too."""
    params = {"type": kind, "message": message}
    if close:
        params["next"] = {"type": "ir.actions.act_window_close"}
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
