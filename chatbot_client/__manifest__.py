{
    "name": "Bots: client chats",
    "version": "18.0.1.0.0",
    "category": "Marketing/Bots",
    "summary": "Client bots: step flows, leads, tickets and hand-over to operators",
    "author": "Bots suite",
    "website": "https://github.com/bots-suite/odoo-bots",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["chatbot_operator", "crm", "project"],
    "data": [
        "security/ir.model.access.csv",
        "security/chatbot_client_security.xml",
        "data/utm_data.xml",
        "views/chatbot_step_views.xml",
        "views/chatbot_bot_views.xml",
        "views/chatbot_dialog_views.xml",
        "views/chatbot_broadcast_views.xml",
        "views/chatbot_test_templates.xml",
    ],
    "demo": ["demo/chatbot_client_demo.xml"],
    "assets": {
        "web.assets_backend": [
            "chatbot_client/static/src/**/*",
        ],
        "web.assets_tests": [
            "chatbot_client/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
