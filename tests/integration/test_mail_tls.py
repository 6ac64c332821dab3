"""STARTTLS + AUTH and implicit TLS (smtps://) against aiosmtpd with a throw-away certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from notifications.message import build_message
from notifications.outgoing import Recipient, RenderedMail
from notifications.transports import SmtpTransport, TransportError

from .conftest import RecordingHandler, free_port

MAIL = RenderedMail("Prøve", "Hej\n", "<p>Hej</p>")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"kkr", b"hemm:lig")
    return AuthResult(success=ok)


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, RecordingHandler]]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certificate)
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=ctx,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    yield port, handler
    controller.stop()


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def message() -> Any:
    return build_message(
        MAIL,
        to=[Recipient("A", "a@laeso.example")],
        secretariat=Recipient("S", "s@kkr.example"),
        mail_from="noreply@aftaleflow.example",
        message_id="<t@aftaleflow.example>",
        at=datetime(2022, 4, 4, 7, tzinfo=UTC),
    )


@pytest.mark.smtp
def test_starttls_and_login(
    tls_server: tuple[int, RecordingHandler], certificate: tuple[Path, Path]
) -> None:
    port, handler = tls_server
    url = f"smtp://kkr:hemm%3Alig@127.0.0.1:{port}?starttls=1&timeout=5"
    transport = SmtpTransport(
        url, local_hostname="aftaleflow.example", ssl_context=client_context(certificate)
    )
    with transport.connect() as conn:
        result = conn.send(
            message(), envelope_from="noreply@aftaleflow.example", recipients=["a@laeso.example"]
        )
    assert result.delivered and result.reply.startswith("250")
    assert len(handler.received) == 1

    plain = SmtpTransport(
        f"smtp://kkr:hemm%3Alig@127.0.0.1:{port}?timeout=5", local_hostname="x.example"
    )
    with pytest.raises(TransportError, match=r"SMTP-relæet .* kan ikke bruges"):
        plain.open()  # the relay requires STARTTLS before AUTH


@pytest.mark.smtp
def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certificate)
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=ctx)
    controller.start()
    try:
        transport = SmtpTransport(
            f"smtps://127.0.0.1:{port}?timeout=5",
            local_hostname="aftaleflow.example",
            ssl_context=client_context(certificate),
        )
        with transport.connect() as conn:
            result = conn.send(
                message(),
                envelope_from="noreply@aftaleflow.example",
                recipients=["a@laeso.example"],
            )
        assert result.delivered and len(handler.received) == 1
        # An unknown certificate is refused: TLS is verified by default.
        untrusted = SmtpTransport(f"smtps://127.0.0.1:{port}?timeout=5", local_hostname="x.example")
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.open()
    finally:
        controller.stop()
