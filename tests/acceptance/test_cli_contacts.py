"""``aftaleflow contact list|add|replace|deactivate`` as a user runs it: a subprocess on a
real SQLite file, Danish output and errors, no traceback."""

from __future__ import annotations

from pathlib import Path

from .test_cli import aftaleflow

OLD = "socialudvalg@laeso.example"


def test_the_secretariat_keeps_the_contacts_from_the_command_line(tmp_path: Path) -> None:
    env = {
        "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    assert aftaleflow("init", env=env).returncode == 0
    started = aftaleflow(
        "start", "definitions/processes/socialaftale.yaml", "--year", "2022",
        "--at", "2022-01-03T08:00", env=env,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr

    listed = aftaleflow("contact", "list", "laeso", env=env)
    assert listed.returncode == 0, listed.stderr
    assert OLD in listed.stdout and "udvalgssekretær" in listed.stdout
    assert "fra partsregistret" in listed.stdout

    replaced = aftaleflow(
        "contact", "replace", "laeso", "committee_secretary", OLD,
        "--name", "Ny sekretær", "--email", "ny@laeso.example",
        "--reason", "sekretæren er stoppet", "--by", "anna", "--at", "2022-01-04T10:00", env=env,
    )  # fmt: skip
    assert replaced.returncode == 0, replaced.stderr
    assert (
        f"{OLD} er erstattet af ny@laeso.example som udvalgssekretær for laeso." in replaced.stdout
    )

    added = aftaleflow(
        "contact", "add", "laeso", "committee_secretary", "--name", "Stedfortræder",
        "--email", "sted@laeso.example", "--reason", "ferie", "--at", "2022-01-04T10:05", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    gone = aftaleflow(
        "contact", "deactivate", "laeso", "committee_secretary", "sted@laeso.example",
        "--reason", "tilbage fra ferie", "--at", "2022-01-04T10:10", env=env,
    )  # fmt: skip
    assert gone.returncode == 0, gone.stderr
    assert "sted@laeso.example er deaktiveret som udvalgssekretær for laeso." in gone.stdout

    everything = aftaleflow("contact", "list", "laeso", "--all", env=env)
    out = everything.stdout
    assert "ny@laeso.example" in out and "deaktiveret" in out and "anna" in out
    active = aftaleflow("contact", "list", "laeso", env=env).stdout
    assert OLD not in active and "sted@laeso.example" not in active

    refusals = [
        (("contact", "list", "laso"), "Ukendt part 'laso'"),
        (
            ("contact", "deactivate", "laeso", "committee_secretary", "ny@laeso.example",
             "--reason", "x"),
            "eneste aktive udvalgssekretær; erstat kontakten",
        ),
        (
            ("contact", "add", "laeso", "director", "--name", "X", "--email", "ikke-en-adresse",
             "--reason", "x"),
            "'ikke-en-adresse' er ikke en mailadresse",
        ),
        (
            ("contact", "replace", "laeso", "committee_secretary", OLD, "--name", "X",
             "--email", "x@laeso.example", "--reason", "x"),
            f"{OLD} er ikke en aktiv udvalgssekretær for laeso",
        ),
        (("contact", "add", "laeso", "boss", "--name", "X", "--email", "x@laeso.example",
          "--reason", "x"), "Ukendt rolle 'boss'"),
    ]  # fmt: skip
    for args, message in refusals:
        result = aftaleflow(*args, env=env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
        assert message in result.stdout + result.stderr, (args, result.stderr)
