"""IO for notifications: rendering templates, SMTP, signed webhooks and a local SMTP sink."""
