{
    "name": "Bots: website live chat",
    "version": "18.0.1.0.0",
    "category": "Marketing/Bots",
    "summary": "The website live chat as a bot channel; operator conversations as live-chat sessions",
    "author": "Bots suite",
    "website": "https://github.com/bots-suite/odoo-bots",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["chatbot_operator", "im_livechat"],
    "data": [],
    "installable": True,
}
