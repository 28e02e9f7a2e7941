"""The columns Odoo fetches on a record's first read, for `search_fetch`: a record searched with them needs
no second query when its fields are read (the hot paths of the webhook and the inbound queue)."""


def prefetch_fields(model):
    """The names of `model`'s stored, prefetched columns: what reading one of its fields would fetch (Odoo's
    `_fetch_field`). Without superuser rights, not those restricted to groups: checking them costs a group
    lookup each, and they are fetched when read."""
    superuser = model.env.su
    return [
        name
        for name, field in model._fields.items()
        if field.store and field.column_type and field.prefetch is True and (superuser or not field.groups)
    ]
