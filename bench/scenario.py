"""Scenario generator: the shipped Socialaftale definition with any number of parties.

A scenario is a folder laid out like ``definitions/`` (the loader resolves parties and
questionnaires relative to the process file)::

    <dir>/processes/socialaftale.yaml     the shipped process, ``parties:`` pointing at <id>
    <dir>/parties/<id>.yaml               the generated party registry
    <dir>/questionnaires/fagudvalg.yaml   the shipped questionnaire

Party sets: ``nordjylland`` (the shipped definition itself, 12 parties), ``danmark`` (the 98
kommuner and 5 regions of ``definitions/parties/danmark.yaml``, 103 parties) or a number N:
the first N parties of ``danmark.yaml`` (Region Nordjylland first, so 12 gives the Nordjysk
parties), and beyond 103 numbered copies of them (``aalborg-2`` on ``aalborg-2.example`` …).
Every address stays on a ``*.example`` domain.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from workflow.loader import Bundle, load_bundle

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions"
SHIPPED_PROCESS = DEFINITIONS / "processes" / "socialaftale.yaml"
DANMARK = DEFINITIONS / "parties" / "danmark.yaml"
QUESTIONNAIRE = "fagudvalg"
YEAR = 2022
#: Every LATE_EVERY-th party answers only after its deadline (2 of 12, as in the README example).
LATE_EVERY = 6

_EMAIL_DOMAIN = re.compile(r"@([A-Za-z0-9.-]+)$")


def danmark_registry() -> dict[str, Any]:
    data = yaml.safe_load(DANMARK.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def synthetic_registry(n: int) -> dict[str, Any]:
    """A registry of ``n`` parties drawn from danmark.yaml (copied with a suffix past 103)."""
    if n < 1:
        raise ValueError("a scenario needs at least one party")
    base = danmark_registry()
    source: list[dict[str, Any]] = base["parties"]
    parties: list[dict[str, Any]] = []
    for i in range(n):
        original = source[i % len(source)]
        round_ = i // len(source)
        p = copy.deepcopy(original)
        if round_:
            suffix = f"-{round_ + 1}"
            p["slug"] = f"{original['slug']}{suffix}"
            p["name"] = f"{original['name']} ({round_ + 1})"
            for people in p["contacts"].values():
                for c in people:
                    local, domain = c["email"].split("@", 1)
                    c["email"] = f"{local}@{domain.removesuffix('.example')}{suffix}.example"
        parties.append(p)
    return {
        "id": f"bench-{n}",
        "name": f"Bench: {n} parter",
        "secretariat": dict(base["secretariat"]),
        "parties": parties,
    }


def check_example_domains(registry: dict[str, Any]) -> None:
    """Refuse a registry with any address outside the reserved ``.example`` domain."""
    emails = [registry["secretariat"]["email"]] + [
        c["email"] for p in registry["parties"] for people in p["contacts"].values() for c in people
    ]
    for e in emails:
        m = _EMAIL_DOMAIN.search(e)
        if m is None or not m.group(1).endswith(".example"):
            raise ValueError(f"bench scenarios may only use *.example addresses, not {e!r}")


def write_scenario(root: Path, registry: dict[str, Any]) -> Path:
    """Write a scenario folder under ``root``; returns the process definition's path."""
    check_example_domains(registry)
    for folder in ("processes", "parties", "questionnaires"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    text, count = re.subn(
        r"^parties: *\S+ *$",
        f"parties: {registry['id']}",
        SHIPPED_PROCESS.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    if count != 1:
        raise RuntimeError(f"{SHIPPED_PROCESS} has no single top-level 'parties:' line")
    process = root / "processes" / SHIPPED_PROCESS.name
    process.write_text(text, encoding="utf-8")
    (root / "parties" / f"{registry['id']}.yaml").write_text(
        yaml.safe_dump(registry, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    shutil.copy(
        DEFINITIONS / "questionnaires" / f"{QUESTIONNAIRE}.yaml",
        root / "questionnaires" / f"{QUESTIONNAIRE}.yaml",
    )
    return process


def scenario_bundle(parties: str | int, workdir: Path) -> Bundle:
    """The Socialaftale definition for a party set: ``nordjylland``, ``danmark`` or a count."""
    if parties == "nordjylland":
        return load_bundle(SHIPPED_PROCESS, reference_year=YEAR)
    if parties == "danmark":
        registry = danmark_registry()
    elif isinstance(parties, int) or str(parties).isdigit():
        registry = synthetic_registry(int(parties))
    else:
        raise ValueError(f"unknown party set {parties!r}; use nordjylland, danmark or a number")
    path = write_scenario(workdir / f"scenario-{registry['id']}", registry)
    return load_bundle(path, reference_year=YEAR)


def late_parties(bundle: Bundle, every: int = LATE_EVERY) -> frozenset[str]:
    """The parties that answer late: every ``every``-th one, so the share is the same for any N."""
    return frozenset(p for i, p in enumerate(bundle.participants) if i % every == every - 1)
