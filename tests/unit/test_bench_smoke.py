"""Smoke test of the performance suite (``python -m bench``): it imports, its scenario generator
produces valid definitions, and the nationwide party registry is complete and safe.
The SpiffWorkflow model of the same year runs to its end with a save/restore after every step.
No timing is asserted here; ``make bench`` measures."""

from __future__ import annotations

import importlib
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bench import danmark, ratios, scenario, spiff, writes
from bench.report import Results
from workflow.loader import check_file

ROOT = Path(__file__).resolve().parents[2]
DANMARK_YAML = ROOT / "definitions" / "parties" / "danmark.yaml"


@pytest.mark.parametrize(
    "module",
    [
        "bench",
        "bench.__main__",
        "bench.danmark",
        "bench.fleet",
        "bench.mail",
        "bench.memory",
        "bench.ratios",
        "bench.report",
        "bench.scenario",
        "bench.spiff",
        "bench.suite",
        "bench.writes",
    ],
)
def test_bench_modules_import(module: str) -> None:
    importlib.import_module(module)


def test_danmark_registry_is_generated_from_its_source_and_checks_clean() -> None:
    assert DANMARK_YAML.read_text(encoding="utf-8") == danmark.render_yaml(), (
        "definitions/parties/danmark.yaml is out of date: run `python -m bench.danmark`"
    )
    assert check_file(DANMARK_YAML) == []


def test_danmark_has_98_kommuner_in_5_regions_and_only_example_addresses() -> None:
    data = yaml.safe_load(DANMARK_YAML.read_text(encoding="utf-8"))
    kinds = [p["kind"] for p in data["parties"]]
    assert kinds.count("kommune") == 98
    assert kinds.count("region") == 5
    assert [len(k) for k in danmark.REGIONS.values()] == [11, 19, 22, 17, 29]
    emails = re.findall(r"email: *(\S+)", DANMARK_YAML.read_text(encoding="utf-8"))
    assert len(emails) == 1 + 3 * 103
    assert all(e.rsplit("@", 1)[1].endswith(".example") for e in emails)
    # Region Nordjylland first: the first twelve are the parties of nordjylland.yaml
    nordjylland = yaml.safe_load(
        (ROOT / "definitions" / "parties" / "nordjylland.yaml").read_text(encoding="utf-8")
    )
    assert [p["slug"] for p in data["parties"][:12]] == [p["slug"] for p in nordjylland["parties"]]


@pytest.mark.parametrize("parties", [12, 98, 150, "danmark"])
def test_scenario_generator_produces_valid_definitions(parties: int | str, tmp_path: Path) -> None:
    bundle = scenario.scenario_bundle(parties, tmp_path)
    expected = 103 if parties == "danmark" else parties
    assert len(bundle.participants) == expected
    assert len(set(bundle.participants)) == expected
    assert [s.id for s in bundle.process.stages] == [
        s.id for s in scenario.scenario_bundle("nordjylland", tmp_path).process.stages
    ]
    emails = [bundle.parties.secretariat.email] + [
        c.email for p in bundle.parties.parties for cs in p.contacts.values() for c in cs
    ]
    assert all(e.rsplit("@", 1)[1].endswith(".example") for e in emails)
    assert (
        tmp_path / f"scenario-{bundle.parties.id}" / "questionnaires" / "fagudvalg.yaml"
    ).exists()


def test_late_parties_are_the_same_share_for_any_size(tmp_path: Path) -> None:
    assert len(scenario.late_parties(scenario.scenario_bundle(12, tmp_path))) == 2
    assert len(scenario.late_parties(scenario.scenario_bundle(98, tmp_path))) == 16


def test_scenarios_refuse_real_addresses() -> None:
    registry = scenario.synthetic_registry(2)
    real_domain = "aalborg." + "dk"  # spelled apart: no real address stands in the repository
    registry["parties"][0]["contacts"]["director"][0]["email"] = f"direktoer@{real_domain}"
    with pytest.raises(ValueError, match="example"):
        scenario.check_example_domains(registry)


def test_write_limit_replay_gives_every_copy_its_own_ids_and_keys() -> None:
    trace = writes.Trace(
        transactions=[
            [
                ("processes", "insert", ("id", "key"), (1, "p")),
                ("outbox", "insert", ("id", "process_id", "idempotency_key"), (1, 1, "p1/a")),
                ("outbox", "insert", ("id", "process_id", "idempotency_key"), (2, 1, "p1/b")),
            ],
            [("processes", "update", ("status",), ("completed", 1))],
        ]
    )
    batches = writes.prepare(trace, 2)
    assert len(batches) == 4  # two transactions per copy
    second_insert = batches[2]
    assert second_insert[0][1] == [(2, "p#1")]
    assert second_insert[1][0].startswith("INSERT INTO outbox")
    assert second_insert[1][1] == [(3, 2, "p1/a#1"), (4, 2, "p1/b#1")]
    assert batches[3] == [("UPDATE processes SET status = ? WHERE id = ?", [("completed", 2)])]


def test_spiff_model_runs_the_year_with_save_restore_after_every_step(tmp_path: Path) -> None:
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    year = spiff.year_of(scenario.scenario_bundle("nordjylland", tmp_path))
    spec, subprocess_specs = spiff.load_specs()
    run = spiff.drive(spec, subprocess_specs, year, save=spiff.serializer())

    assert run.completed
    # 4 meetings and decisions, 12 answers, 11 kommuner × 2 approval steps + the region's 1
    assert year.user_tasks == 4 + 12 + 11 * 2 + 1
    assert run.user_steps == year.user_tasks
    # the 2 late parties (every sixth) get the questionnaire's 3 reminders and the escalation,
    # and the approvals' 2 reminders; the stage timers fire too
    assert sorted(year.late) == ["laeso", "region-nordjylland"]
    assert (run.reminders, run.escalated) == (5, 1)
    assert run.timer_steps >= 9  # 9 stage openings and closings, besides the reminders
    assert len(run.sizes) == 1 + run.user_steps + run.timer_steps  # saved after every step
    assert all(size > 20_000 for size in run.sizes)
    answers, approvals = run.data["answers"], run.data["approvals"]
    assert sorted(answers) == sorted(year.kinds)
    assert answers["laeso"] == {"party": "laeso", "simulated": True}
    assert set(approvals["aalborg"]) == {"socialudvalg", "byraad"}
    assert set(approvals["region-nordjylland"]) == {"regionsraad"}
    assert run.data["submitted"]["to"].endswith(".example")
    assert timer.datetime is datetime  # the virtual clock is put back


def test_ratio_rows_compare_the_same_repetitions(tmp_path: Path) -> None:
    bundle = scenario.scenario_bundle("nordjylland", tmp_path)
    reps = [
        {"engine_s": 2.0, "render_s": 0.4, "raw_s": 0.8},
        {"engine_s": 3.0, "render_s": 0.6, "raw_s": 1.0},
    ]
    results = Results()
    ratios.add_rows(results, reps, 10, ratios.Peer(bundle, enabled=False))
    p1, peer = results.rows
    assert p1.figure.startswith("3.3×")  # median of 2.4 / 0.8 and 3.6 / 1.0
    assert p1.status == "PASS"
    assert peer.status == "SKIP"
    assert "nordjylland" in peer.note


def test_one_process_year_of_the_bench_runs_to_its_end(tmp_path: Path) -> None:
    """The bench drives the shipped cycle like its secretariat and parties would (KKR's
    decided values included): a change to the engine's rules that the bench's simulated
    people do not follow shows up here, not first in ``make bench``."""
    from bench.fleet import Fleet
    from bench.scenario import YEAR, late_parties, scenario_bundle
    from workflow.service import Service
    from workflow.storage.db import Database
    from workflow.storage.models import OutboxRow, ProcessRow

    db = Database(f"sqlite:///{tmp_path / 'fleet.db'}")
    db.migrate()
    bundle = scenario_bundle("nordjylland", tmp_path)
    stats = Fleet(Service(db, link_secret="s" * 32), bundle, YEAR, late=late_parties(bundle)).run()
    with db.sessions() as s:
        (status,) = s.scalars(select(ProcessRow.status)).all()
        mails = s.scalar(select(func.count()).select_from(OutboxRow))
    db.dispose()
    assert status == "completed" and stats.transactions > 50
    assert mails is not None and mails > 100
