{
    "name": "Bots: operator chats",
    "version": "18.0.1.0.0",
    "category": "Marketing/Bots",
    "summary": "Consultation bots: operators, routing, queue, moderation, Discuss conversations, timeouts",
    "author": "Bots suite",
    "website": "https://github.com/bots-suite/odoo-bots",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["chatbot_base", "sms"],
    "data": [],
    "installable": True,
}
