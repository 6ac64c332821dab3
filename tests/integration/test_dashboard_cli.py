"""``aftaleflow user add|password|list|api-token``: passwords from a hidden prompt or stdin,
never from an option; a token is printed once and works against the API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftaleflow.cli import main
from aftaleflow.cli_users import user
from aftaleflow.config import from_env
from workflow import users
from workflow.service import system_clock
from workflow.storage.db import Database


def run(db: Database, tmp_path: Path, args: list[str], stdin: str = "") -> tuple[int, str]:
    settings = from_env(
        {"AFTALEFLOW_VAR_DIR": str(tmp_path / "var"), "AFTALEFLOW_DATABASE_URL": db.url}
    )
    result = CliRunner().invoke(user, args, input=stdin, obj={"settings": settings, "db": db})
    return result.exit_code, result.output


def test_add_list_password_and_token(db: Database, tmp_path: Path) -> None:
    code, out = run(
        db, tmp_path, ["add", "Anne", "--role", "admin", "--password-stdin"], "sikkert-kodeord\n"
    )
    assert code == 0 and "Bruger oprettet: anne (administrator" in out
    code, out = run(
        db, tmp_path, ["add", "viggo", "--role", "viewer"], "kun-laesning\nkun-laesning\n"
    )
    assert code == 0 and "viggo" in out
    assert users.authenticate(db, "anne", "sikkert-kodeord", at=system_clock()).is_admin
    assert not users.authenticate(db, "viggo", "kun-laesning", at=system_clock()).is_admin

    code, out = run(db, tmp_path, ["list"])
    assert code == 0 and "anne" in out and "viewer" in out

    code, out = run(db, tmp_path, ["password", "viggo", "--password-stdin"], "nyt-kodeord-1\n")
    assert code == 0
    assert users.authenticate(db, "viggo", "nyt-kodeord-1", at=system_clock()).name == "viggo"

    code, out = run(db, tmp_path, ["api-token", "anne"])
    assert code == 0
    token = out.splitlines()[0]
    found = users.user_for_token(db, token)
    assert found is not None and found.name == "anne"


def test_refusals_say_what_to_do(db: Database, tmp_path: Path) -> None:
    code, _ = run(db, tmp_path, ["add", "anne", "--role", "admin", "--password-stdin"], "kort\n")
    assert code != 0
    run(db, tmp_path, ["add", "anne", "--role", "admin", "--password-stdin"], "sikkert-kodeord\n")
    code, _ = run(
        db, tmp_path, ["add", "anne", "--role", "admin", "--password-stdin"], "andet-kodeord\n"
    )
    assert code != 0
    code, out = run(db, tmp_path, ["add", "bo", "--role", "ejer", "--password-stdin"], "x\n")
    assert code == 2 and "ejer" in out
    code, _ = run(db, tmp_path, ["api-token", "ukendt"])
    assert code != 0
    assert [u.name for u in users.list_users(db)] == ["anne"]


def test_ensure_user_creates_once_and_keeps_an_existing_password(db: Database) -> None:
    at = system_clock()
    first = users.ensure_user(db, "sekretariat", "demo-sekretariat", "admin", at=at, actor="demo")
    again = users.ensure_user(db, "sekretariat", "et-andet-kodeord", "viewer", at=at, actor="demo")
    assert first.id == again.id and again.role == "admin"
    assert users.authenticate(db, "sekretariat", "demo-sekretariat", at=at).is_admin


def test_a_refused_password_is_explained_in_danish(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the real entry point: ``Fejl:`` and the rule, both in Danish, exit code 2."""
    monkeypatch.setenv("AFTALEFLOW_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AFTALEFLOW_DATABASE_URL", db.url)
    monkeypatch.setattr("sys.stdin", io.StringIO("kort\n"))
    code = main(["user", "add", "anne", "--role", "admin", "--password-stdin"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "Fejl: adgangskoden skal være på mindst 8 tegn" in err
