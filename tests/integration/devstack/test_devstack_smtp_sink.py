"""``binome-mail smtp-sink``: the development SMTP server, run as a command on 127.0.0.1."""

import email
import os
import signal
import smtplib
import socket
import subprocess
import sys
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _parse(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_smtp_sink_command_runs_a_real_server_until_sigterm(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mail_dir = tmp_path / "mail"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "binome_devstack.notifications.preview_cli",
            "smtp-sink",
            "--port",
            str(port),
            "--dir",
            str(mail_dir),
        ],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline().decode()
        assert f"127.0.0.1:{port}" in banner
        message = EmailMessage()
        message["From"] = "noreply@binome.example.com"
        message["To"] = "someone@example.com"
        message["Subject"] = "Hello from the CLI test"
        message.set_content("body")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=20)
    assert status == 0
    stored = list(mail_dir.glob("*.eml"))
    assert [path.name.split("-", 1)[1] for path in stored] == ["hello-from-the-cli-test.eml"]
    assert _parse(stored[0])["Subject"] == "Hello from the CLI test"
