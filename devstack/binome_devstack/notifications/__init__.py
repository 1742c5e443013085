"""The notifications service's development aids, never shipped in the image.

- :mod:`.examples`: realistic example triggers with fictitious people (previews, tests);
- :mod:`.smtp_sink`: a real local SMTP server writing each message as an .eml file;
- :mod:`.preview_cli`: ``binome-mail preview`` and ``binome-mail smtp-sink``.

Aides au développement du service de notifications, absentes de l'image : exemples,
serveur SMTP local, aperçu des messages.
"""
