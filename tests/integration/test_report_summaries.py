"""The secretariat's summary per report section: versions with author, audited, refused on
a stale edit; and the migration that adds its table, down and up again."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from workflow.calendar import local_to_utc
from workflow.errors import ConcurrentUpdate, GuardRefused, NotFound
from workflow.loader import Bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database, alembic_config
from workflow.storage.models import Base, EventRow, ProcessRow
from workflow.summaries import TEXT_MAX, WHOLE_REPORT, blocks, history, save_summary

Q = "fagudvalg-spoergsmaal"


def at(d: str, hour: int = 12) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


@pytest.fixture
def key(db: Database, socialaftale: Bundle) -> str:
    return simulate(Service(db, link_secret="s"), socialaftale, 2022, until=at("2022-04-04")).key


def _history(db: Database, key: str) -> dict[str, list[tuple[int, str, str]]]:
    with db.sessions() as s:
        pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == key))
        assert pid is not None
        return {
            k: [(v.version, v.text, v.author) for v in vs] for k, vs in history(s, pid, Q).items()
        }


def test_versions_are_kept_with_author_and_audited(db: Database, key: str) -> None:
    v1 = save_summary(
        db, key, Q, "vision", "Udvalgene bakker op.", based_on=0, at=at("2022-06-01"), actor="anne"
    )
    v2 = save_summary(
        db,
        key,
        Q,
        "vision",
        "Udvalgene bakker bredt op.\n\n- tidlig indsats\n- borgeren for bordenden",
        based_on=1,
        at=at("2022-06-02"),
        actor="bo",
    )
    whole = save_summary(
        db, key, Q, WHOLE_REPORT, "Samlet set …", based_on=0, at=at("2022-06-02"), actor="bo"
    )
    assert (v1, v2, whole) == (1, 2, 1)
    got = _history(db, key)
    assert [(v, a) for v, _, a in got["vision"]] == [(2, "bo"), (1, "anne")]  # newest first
    assert got[WHOLE_REPORT] == [(1, "Samlet set …", "bo")]
    with db.sessions() as s:
        events = list(s.scalars(select(EventRow).where(EventRow.kind == "report_summary_saved")))
    assert [(e.actor, e.stage_id, e.data["section"], e.data["version"]) for e in events] == [
        ("anne", Q, "vision", 1),
        ("bo", Q, "vision", 2),
        ("bo", Q, "", 1),
    ]
    same = save_summary(
        db, key, Q, "vision", got["vision"][0][1], based_on=2, at=at("2022-06-03"), actor="anne"
    )
    assert same == 2 and len(_history(db, key)["vision"]) == 2, "an unchanged text is no version"


def test_a_stale_edit_is_refused_naming_who_saved_in_between(db: Database, key: str) -> None:
    save_summary(db, key, Q, "temaer", "A", based_on=0, at=at("2022-06-01"), actor="anne")
    save_summary(db, key, Q, "temaer", "B", based_on=1, at=at("2022-06-01", 13), actor="bo")
    with pytest.raises(ConcurrentUpdate, match="bo gemte version 2"):
        save_summary(db, key, Q, "temaer", "C", based_on=1, at=at("2022-06-01", 14), actor="anne")
    assert [v for v, _, _ in _history(db, key)["temaer"]] == [2, 1]


def test_bad_input_is_refused_and_nothing_is_written(db: Database, key: str) -> None:
    with pytest.raises(NotFound, match="intet afsnit 'visionen'; dets afsnit er vision"):
        save_summary(db, key, Q, "visionen", "x", based_on=0, at=at("2022-06-01"), actor="a")
    with pytest.raises(NotFound, match="er ikke et spørgeskema"):
        save_summary(db, key, "dialogforum", "", "x", based_on=0, at=at("2022-06-01"), actor="a")
    with pytest.raises(NotFound, match="findes ikke"):
        save_summary(db, "nope", Q, "", "x", based_on=0, at=at("2022-06-01"), actor="a")
    with pytest.raises(GuardRefused, match=f"højst {TEXT_MAX} tegn"):
        save_summary(
            db, key, Q, "", "x" * (TEXT_MAX + 1), based_on=0, at=at("2022-06-01"), actor="a"
        )
    assert _history(db, key) == {}


def test_blocks_are_paragraphs_and_list_items() -> None:
    got = blocks("Første afsnit\nfortsat.\n\n- et punkt\n• et andet\r\n\nSidste.")
    assert [(b.kind, b.text) for b in got] == [
        ("paragraph", "Første afsnit\nfortsat."),
        ("item", "et punkt"),
        ("item", "et andet"),
        ("paragraph", "Sidste."),
    ]


def test_the_migration_matches_the_model_and_goes_down_and_up(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "report_summaries" in repr(d)] == []
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert not inspect(db.engine).has_table("report_summaries")
    assert inspect(db.engine).has_table("processes")
    db.migrate()
    assert inspect(db.engine).has_table("report_summaries")
