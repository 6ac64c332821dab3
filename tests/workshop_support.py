"""A small definition for the workshop sign-up tests: a questionnaire (so the compiled report
exists) and a workshops stage with one workshop of capacity three (minimum two) and one
without sign-up, for three parties, bound to 2022."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path

from workflow.calendar import local_to_utc
from workflow.loader import Bundle, load_bundle

ROOT = Path(__file__).resolve().parent.parent
STAGE = "workshops"
WORKSHOP = "socialpsykiatri"
PARTIES = ("aalborg", "hjorring", "laeso")

DEFINITION = """\
id: workshop-test
version: 1
name: Workshops med tilmelding
parties: nordjylland
participants: [aalborg, hjorring, laeso]
stages:
  - id: fagudvalg-spoergsmaal
    kind: questionnaire
    name: Spørgsmål til de politiske udvalg
    questionnaire: fagudvalg
    opens: Y-04-01
    send: Y-04-04
    deadline: Y-05-20
    closes: Y-06-03
  - id: workshops
    kind: workshops
    name: Faglige workshops
    forum: Faglige workshops
    requires: []
    opens: Y-09-01
    closes: Y-10-31
    invite: [committee_secretary]
    workshops:
      - id: socialpsykiatri
        title: Workshop – Sammen om en stærk socialpsykiatri
        date: Y-09-21
        time: "09:30"
        duration_minutes: 240
        location: Aalborg
        signup:
          capacity: 3
          minimum: 2
          deadline: Y-09-14
          remind_days_before: 2
          flag_days_before: 4
      - id: uden-tilmelding
        title: Workshop uden tilmelding
        date: Y-10-05
        location: Hjørring
"""


def workshop_bundle(tmp_path: Path) -> Bundle:
    """The definition above, beside a copy of the shipped party registry."""
    root = tmp_path / "definitions"
    (root / "processes").mkdir(parents=True, exist_ok=True)
    for folder in ("parties", "questionnaires"):
        shutil.copytree(ROOT / "definitions" / folder, root / folder, dirs_exist_ok=True)
    path = root / "processes" / "workshop-test.yaml"
    path.write_text(DEFINITION, encoding="utf-8")
    return load_bundle(path, reference_year=2022)


def at(d: str, hour: int = 12, minute: int = 0) -> datetime:
    """Danish local time on day ``d`` (ISO) as UTC."""
    return local_to_utc(date.fromisoformat(d), time(hour, minute))
