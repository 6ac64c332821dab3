"""A wrong setting or an unusable database, as an operator meets them: the real ``aftaleflow``
command and ``run_scheduler.py`` as subprocesses. Every one ends in one clear line, exit code 2
(a configuration problem, as the README says), nothing half-written and no traceback.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.conftest import SCHEDULER
from tests.conftest import ROOT

SOCIALAFTALE = "definitions/processes/socialaftale.yaml"


def _env(var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTALEFLOW_")}
    env.update(AFTALEFLOW_VAR_DIR=str(var), COLUMNS="80", **extra)
    return env


def run(
    program: list[str], env: dict[str, str], *, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, *program],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def aftaleflow(
    *args: str, env: dict[str, str], prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return run(["-m", "aftaleflow", *args], env, prefix=prefix)


def scheduler(
    *args: str, env: dict[str, str], prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return run([str(SCHEDULER), *args], env, prefix=prefix)


def one_clear_line(result: subprocess.CompletedProcess[str], message: str) -> str:
    """Exit code 2, no traceback, and the message on one line of stderr."""
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert result.returncode == 2, out
    lines = [line for line in result.stderr.splitlines() if message in line]
    assert lines, f"no line says {message!r}:\n{out}"
    return lines[0]


# ---------------------------------------------------------------------- the command line


def test_a_year_out_of_range_is_refused_and_nothing_is_started(tmp_path: Path) -> None:
    env = _env(tmp_path / "var")
    assert aftaleflow("init", env=env).returncode == 0

    result = aftaleflow("start", SOCIALAFTALE, "--year", "99999", env=env)

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "99999 is not in the range 2000<=x<=2200" in result.stderr
    assert "Ingen processer endnu" in aftaleflow("status", env=env).stdout
    simulated = aftaleflow("simulate", SOCIALAFTALE, "--year", "99999", env=env)
    assert simulated.returncode == 2 and "is not in the range" in simulated.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://aftaleflow@localhost/aftaleflow",
            "nævner 'mysql'; Aftaleflow kører kun på SQLite",
        ),
        ("garbage", "('garbage'…) er ikke en database-URL; skriv sqlite:///"),
        ("postgresql+psycopg2://u:hemmelig@db.example/x", "driveren 'postgresql+psycopg2'"),
    ],
)
def test_a_database_url_aftaleflow_cannot_use_is_named(
    tmp_path: Path, url: str, message: str
) -> None:
    env = _env(tmp_path / "var", AFTALEFLOW_DATABASE_URL=url)

    for result in (aftaleflow("status", env=env), scheduler(env=env)):
        line = one_clear_line(result, message)
        assert "AFTALEFLOW_DATABASE_URL" in line
        assert "hemmelig" not in result.stderr  # a password is never printed


def test_a_file_that_is_not_a_database_is_named_and_left_alone(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("Referat fra mødet\n" * 100, encoding="utf-8")
    before = not_a_db.read_bytes()
    env = _env(tmp_path / "var", AFTALEFLOW_DATABASE_URL=f"sqlite:///{not_a_db}")

    for result in (
        aftaleflow("status", env=env),
        aftaleflow("init", env=env),
        scheduler(env=env),
    ):
        one_clear_line(result, f"{not_a_db} er ikke en SQLite-database")

    assert not_a_db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("notes.db*")) == [
        "notes.db",
        "notes.db.scheduler.lock",  # the scheduler's lock, taken before it looked
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AFTALEFLOW_TICK_SECONDS", "abc", "AFTALEFLOW_TICK_SECONDS='abc' er ikke et antal"),
        ("AFTALEFLOW_SEND_SECONDS", "-5", "AFTALEFLOW_SEND_SECONDS='-5' er ikke et antal"),
        ("AFTALEFLOW_LANGUAGE", "fr", "AFTALEFLOW_LANGUAGE='fr': skriv da eller en"),
        ("AFTALEFLOW_BASE_URL", "aftaleflow.example", "AFTALEFLOW_BASE_URL='aftaleflow.example'"),
    ],
)
def test_a_bad_setting_stops_every_entry_point_with_its_name(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env = _env(tmp_path / "var", **{variable: value})

    one_clear_line(aftaleflow("status", env=env), message)
    one_clear_line(scheduler(env=env), message)
    assert not (tmp_path / "var" / "aftaleflow.db").exists()


def test_a_bad_log_level_stops_the_scheduler(tmp_path: Path) -> None:
    env = _env(tmp_path / "var", AFTALEFLOW_LOG_LEVEL="LOUD")
    one_clear_line(scheduler(env=env), "logniveau 'LOUD': skriv DEBUG, INFO eller WARNING")


def test_a_bad_from_address_stops_the_scheduler_at_once(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = _env(var, AFTALEFLOW_MAIL_FROM="Sekretariatet noreply@kkr.example")

    line = one_clear_line(
        scheduler("--demo", env=env),
        "AFTALEFLOW_MAIL_FROM='Sekretariatet noreply@kkr.example' kan ikke bruges som afsender",
    )

    assert line.startswith("aftaleflow scheduler: konfiguration:")
    assert not (var / "aftaleflow.db").exists()  # stopped before the demo was seeded
    # the CLI's mail commands say the same, before touching the outbox
    assert aftaleflow("init", env=env).returncode == 0
    one_clear_line(aftaleflow("send", env=env), "kan ikke bruges som afsender")


# ---------------------------------------------------------------------- a read-only var dir


def _as_another_user() -> tuple[str, ...]:
    """Root may write anywhere: run the subprocess as nobody (util-linux ``setpriv``) so the
    file modes count."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    assert setpriv, "running the tests as root needs setpriv (util-linux)"
    return (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")


@pytest.fixture
def read_only_var() -> Iterator[Path]:
    """A var dir with a migrated database and a secret key, then made read-only."""
    base = Path(tempfile.mkdtemp(prefix="aftaleflow-ro-"))  # not under a 0700 pytest folder
    base.chmod(0o755)
    var = base / "var"
    assert aftaleflow("init", env=_env(var)).returncode == 0
    for path in [var, *var.rglob("*")]:
        mode = 0o555 if path.is_dir() else 0o444
        path.chmod(mode)
    yield var
    for path in [var, *var.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(base)


def test_status_with_a_read_only_var_dir_says_what_is_wrong(read_only_var: Path) -> None:
    db = read_only_var / "aftaleflow.db"
    before = db.read_bytes()

    result = aftaleflow("status", env=_env(read_only_var), prefix=_as_another_user())

    line = one_clear_line(result, f"der kan ikke skrives i databasen {db}")
    assert "skrivebeskyttet" in line and "skrive i mappen" in line
    assert "aftaleflow init" not in result.stderr
    assert db.read_bytes() == before


def test_the_scheduler_with_a_read_only_var_dir_exits_2(read_only_var: Path) -> None:
    db = read_only_var / "aftaleflow.db"
    before = sorted(p.name for p in read_only_var.iterdir())

    result = scheduler(env=_env(read_only_var), prefix=_as_another_user())

    line = one_clear_line(result, f"schedulerens låsefil {db}.scheduler.lock kan ikke oprettes")
    assert f"skrive i mappen {read_only_var}" in line
    assert sorted(p.name for p in read_only_var.iterdir()) == before
