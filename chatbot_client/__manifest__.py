{
    "name": "Bots: client chats",
    "version": "18.0.1.0.0",
    "category": "Marketing/Bots",
    "summary": "Client bots: step flows, leads, tickets and hand-over to operators",
    "author": "Bots suite",
    "website": "https://github.com/bots-suite/odoo-bots",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["chatbot_operator", "crm"],
    "data": [],
    "installable": True,
}
