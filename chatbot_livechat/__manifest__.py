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
    "data": [
        "views/chatbot_livechat_views.xml",
        "views/chatbot_chat_page_templates.xml",
    ],
    "post_init_hook": "post_init_hook",
    "assets": {
        "web.assets_backend": [
            "chatbot_livechat/static/src/livechat/**/*",
            "chatbot_livechat/static/src/web/**/*",
        ],
        "im_livechat.assets_embed_core": [
            "chatbot_livechat/static/src/livechat/**/*",
        ],
        "web.assets_tests": [
            "chatbot_livechat/static/tests/tours/**/*",
        ],
        "mail.assets_discuss_public_test_tours": [
            "chatbot_livechat/static/tests/public_tours/**/*",
        ],
    },
    "installable": True,
}
