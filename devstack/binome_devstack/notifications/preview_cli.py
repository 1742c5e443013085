"""``binome-mail``: ``preview`` renders an example notification, ``smtp-sink`` runs the
local SMTP server that stores what it receives as .eml files.

Development tools, not commands of the service: the image ships neither.
``register(subparsers)`` adds both to a command line; each sets ``handler`` to a function
taking the parsed arguments and returning the exit status.

Outils de développement : aperçu d'une notification et serveur SMTP local ; l'image n'en
contient aucun.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path

from binome_devstack.notifications.examples import EXAMPLE_NOW, example_trigger
from binome_devstack.notifications.smtp_sink import FaultStage, SinkFault, SmtpSink
from binome_notifications.adapters.mime import build_mime_message
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.calendar import render_ics
from binome_notifications.domain.model import Channel, Notification, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_shared.contracts.values import Language

PREVIEW_FORMATS = ("text", "html", "eml", "ics", "webhook")
PREVIEW_SENDER = "notifications@binome.example.com"
DEFAULT_PREVIEW_BASE_URL = "https://binome.example.com"


class PreviewError(ValueError):
    """The example asked for has no such rendering (e.g. an .ics for a feedback request)."""


def _example_notification(
    kind: NotificationKind, language: Language, channel: Channel
) -> Notification:
    planned = plan_notifications(example_trigger(kind, language=language))
    for notification in planned:
        if notification.kind is kind and notification.channel is channel:
            return notification
    raise PreviewError(f"no {channel.value} example for {kind.value}")


def render_preview(
    kind: NotificationKind,
    *,
    language: Language,
    output_format: str,
    public_base_url: str = DEFAULT_PREVIEW_BASE_URL,
) -> bytes:
    """An example of ``kind`` in ``language`` as text, HTML, a whole .eml, its .ics, or the
    webhook body."""
    renderer = NotificationRenderer(public_base_url=public_base_url, organizer_email=PREVIEW_SENDER)
    if output_format == "webhook":
        notification = _example_notification(kind, language, Channel.WEBHOOK)
        return renderer.render_webhook(notification).body + b"\n"
    notification = _example_notification(kind, language, Channel.EMAIL)
    if output_format == "text":
        rendered = renderer.render_text(notification)
        return f"Subject: {rendered.subject}\n\n{rendered.text}".encode()
    if output_format == "html":
        return renderer.render_text(notification).html.encode()
    email = renderer.render_email(notification)
    if output_format == "eml":
        message = build_mime_message(
            email,
            sender_address=PREVIEW_SENDER,
            sender_name="Binôme",
            message_id_domain="binome.example.com",
            sent_at=EXAMPLE_NOW,
        )
        return message.as_bytes()
    if output_format == "ics":
        invite = getattr(notification.content, "calendar", None)
        if invite is None:
            raise PreviewError(f"{kind.value} has no calendar invite")
        return render_ics(
            invite, language=language, organizer_email=PREVIEW_SENDER, organizer_name="Binôme"
        )
    raise PreviewError(f"unknown format {output_format}")


def run_preview(arguments: argparse.Namespace) -> int:
    """Handler of ``preview``."""
    try:
        rendered = render_preview(
            NotificationKind(arguments.kind),
            language=Language(arguments.lang),
            output_format=arguments.format,
            public_base_url=arguments.base_url,
        )
    except PreviewError as error:
        sys.stderr.write(f"preview: {error}\n")
        return 2
    if arguments.out is None:
        sys.stdout.buffer.write(rendered)
        sys.stdout.flush()
    else:
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_bytes(rendered)
        sys.stderr.write(f"written to {arguments.out}\n")
    return 0


async def serve_sink(sink: SmtpSink) -> None:
    """Run ``sink`` until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with sink:
        sys.stderr.write(
            f"SMTP sink listening on {sink.host}:{sink.port}, writing to {sink.directory}\n"
        )
        await stop.wait()


def run_smtp_sink(arguments: argparse.Namespace) -> int:
    """Handler of ``smtp-sink``."""
    fault = None
    if arguments.fail_code is not None:
        fault = SinkFault(
            code=arguments.fail_code,
            times=arguments.fail_times,
            stage=FaultStage(arguments.fail_stage),
        )
    credentials = None
    if arguments.user is not None:
        credentials = (arguments.user, arguments.password or "")
    tls_context = None
    if arguments.tls_cert is not None:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(arguments.tls_cert, arguments.tls_key)
    sink = SmtpSink(
        directory=arguments.dir,
        host=arguments.host,
        port=arguments.port,
        fault=fault,
        credentials=credentials,
        tls_context=tls_context,
    )
    asyncio.run(serve_sink(sink))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``preview`` and ``smtp-sink`` sub-commands."""
    preview = subparsers.add_parser(
        "preview",
        help="render an example notification (French or English)",
        description="Render an example notification of KIND with fictitious people.",
    )
    preview.add_argument("kind", choices=[kind.value for kind in NotificationKind])
    preview.add_argument("--lang", choices=[lang.value for lang in Language], default="fr")
    preview.add_argument("--format", choices=PREVIEW_FORMATS, default="text")
    preview.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
    preview.add_argument("--base-url", default=DEFAULT_PREVIEW_BASE_URL)
    preview.set_defaults(handler=run_preview)

    sink = subparsers.add_parser(
        "smtp-sink",
        help="run a local SMTP server that stores every message as an .eml file",
    )
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--port", type=int, default=2525)
    sink.add_argument("--dir", type=Path, default=Path(".stack/mail"))
    sink.add_argument("--fail-code", type=int, default=None, help="e.g. 451 or 550")
    sink.add_argument(
        "--fail-times",
        type=int,
        default=None,
        help="refuse this many transactions, then accept (default: refuse all)",
    )
    sink.add_argument("--fail-stage", choices=[stage.value for stage in FaultStage], default="data")
    sink.add_argument("--user", default=None, help="require AUTH with this user")
    sink.add_argument("--password", default=None)
    sink.add_argument(
        "--tls-cert", type=Path, default=None, help="PEM certificate: require STARTTLS"
    )
    sink.add_argument("--tls-key", type=Path, default=None, help="PEM private key of --tls-cert")
    sink.set_defaults(handler=run_smtp_sink)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``binome-mail``; ``python -m`` on this module does the same."""
    parser = argparse.ArgumentParser(
        prog="binome-mail",
        description="Notifications' development tools: example previews and a local SMTP sink.",
    )
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    arguments = parser.parse_args(argv)
    status: int = arguments.handler(arguments)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
