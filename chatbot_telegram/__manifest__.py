{
    "name": "Bots: Telegram",
    "version": "18.0.1.0.0",
    "category": "Marketing/Bots",
    "summary": "Telegram connector for the Bots suite",
    "author": "Bots suite",
    "website": "https://github.com/bots-suite/odoo-bots",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["chatbot_base"],
    "external_dependencies": {"python": ["python-telegram-bot", "requests"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/chatbot_channel_views.xml",
        "views/chatbot_group_views.xml",
    ],
    "demo": ["demo/chatbot_telegram_demo.xml"],
    "assets": {
        "web.assets_tests": ["chatbot_telegram/static/tests/tours/*.js"],
    },
    "installable": True,
}
