"""A real IMAP server for the inbox tests: Debian's ``dovecot`` with a throw-away configuration.

Everything lives under the test's temporary folder (configuration, passwd-file, sockets,
state, log) and the server is started in the foreground as a child of the test and stopped
with it; the system's dovecot configuration and services are never read or touched
(``dovecot -c`` names the configuration, ``instance_name`` keeps its processes apart).
It listens on loopback only: IMAP with STARTTLS and IMAPS, both with a self-signed
certificate; plaintext log-in is allowed (loopback only). Messages go in with IMAP APPEND.

When the tests run as root, dovecot refuses to give mail access to uid 0, so the mail folder
is then a separate temporary folder owned by the ``dovecot`` user (removed afterwards): the
pytest folders are private to root and that user could not reach one under them.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from .conftest import free_port

USER = "postkasse"
PASSWORD = "hemmelig-ind-1"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


@dataclass
class ImapServer:
    folder: Path
    port: int
    tls_port: int
    cert: Path
    mail_root: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self, *, tls: str = "starttls", folder: str = "INBOX", **options: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        if tls == "ssl":
            base = f"imaps://{USER}:{PASSWORD}@127.0.0.1:{self.tls_port}/{folder}"
        elif tls == "starttls":
            base = f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{folder}?starttls=1"
        else:
            base = f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{folder}"
        sep = "&" if "?" in base else "?"
        return base + (sep + query if query else "")

    @property
    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as c:
            c.append(folder, raw)

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client() as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            return sorted(int(u) for u in c.search(["ALL"]))

    def messages(self, folder: str) -> list[bytes]:
        with self.client() as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            uids = c.search(["ALL"])
            data = c.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [bytes(data[u][b"BODY[]"]) for u in sorted(data)]

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.folder / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on port {self.port}:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def configure(folder: Path) -> ImapServer:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = make_certificate(folder)
    port, tls_port = free_port(), free_port()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("dovecot")
        mail_root = Path(tempfile.mkdtemp(prefix="aftaleflow-imap-"))
        os.chown(mail_root, owner.pw_uid, owner.pw_gid)
        uid, gid, internal, group, login = owner.pw_uid, owner.pw_gid, "root", "root", "dovenull"
    else:
        me = pwd.getpwuid(os.geteuid())
        mail_root = folder / "mail"
        mail_root.mkdir()
        group = grp.getgrgid(me.pw_gid).gr_name
        uid, gid, internal, login = me.pw_uid, me.pw_gid, me.pw_name, me.pw_name
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    (folder / "dovecot.conf").write_text(
        f"""
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = aftaleflow-test-{uuid.uuid4().hex[:10]}
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail_root}/%u
first_valid_uid = {uid}
last_valid_uid = {uid}
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail_root}/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""
    )
    return ImapServer(folder, port, tls_port, cert, mail_root)


@pytest.fixture
def imap_server(tmp_path: Path) -> Iterator[ImapServer]:
    """A running dovecot with an empty mailbox for ``USER``; stopped and removed afterwards."""
    if shutil.which("dovecot") is None:
        raise RuntimeError("dovecot is not installed: run `make test` (it installs dovecot-imapd)")
    server = configure(tmp_path / "imap")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if server.mail_root != server.folder / "mail":
            shutil.rmtree(server.mail_root, ignore_errors=True)
