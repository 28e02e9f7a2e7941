{
    "name": "Bots: operator chats",
    "version": "18.0.1.0.0",
    "category": "Marketing/Bots",
    "summary": "Consultation bots: operators, routing, queue, moderation, Discuss conversations, timeouts",
    "author": "Bots suite",
    "website": "https://github.com/bots-suite/odoo-bots",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["chatbot_base", "sms", "resource"],
    "data": [
        "security/ir.model.access.csv",
        "security/chatbot_operator_security.xml",
        "data/ir_cron_data.xml",
        "views/chatbot_bot_views.xml",
        "views/chatbot_broadcast_views.xml",
        "views/chatbot_start_chat_views.xml",
        "views/chatbot_report_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "chatbot_operator/static/src/**/*",
        ],
        "web.assets_tests": [
            "chatbot_operator/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
