"""The web channel: JSON API, chat page, embeddable widget (see `create_app`)."""
