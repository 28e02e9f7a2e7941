"""The columns Odoo fetches on a record's first read, for `search_fetch`: a record searched with them needs
no second query when its fields are read (the hot paths of the webhook and the inbound queue)."""


def prefetch_fields(model):
    """The names of `model`'s stored, prefetched columns that its user may read: what reading one of its
    fields would fetch (Odoo's `_fetch_field`)."""
    return [
        name
        for name, field in model._fields.items()
        if field.store and field.column_type and field.prefetch is True and field.is_accessible(model.env)
    ]
