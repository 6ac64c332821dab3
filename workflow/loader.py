"""Reading definition files: YAML with line numbers → validated models → a hashed bundle.

Every problem is reported as ``file:line: [field] message`` with the nearest valid name
when a name is misspelt (``workflow.definition_errors``); the checks that need more than one
field are in ``workflow.definition_checks``. Nothing here raises anything but ``DefinitionError``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from workflow.definition import ProcessDefinition, QuestionnaireStage
from workflow.definition_checks import semantic_problems
from workflow.definition_errors import suggest, validate
from workflow.definition_parties import PartyRegistry
from workflow.definition_questions import Questionnaire
from workflow.errors import DefinitionError, Problem
from workflow.yaml_source import locate, read_yaml


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Bundle:
    """A process definition with the party registry and questionnaires it uses.

    ``source`` is the raw data of all three; ``hash`` is its SHA-256. A running process
    stores the source, so a changed file never rewrites it.
    """

    process: ProcessDefinition
    parties: PartyRegistry
    questionnaires: dict[str, Questionnaire]
    source: dict[str, Any] = field(repr=False)
    path: str = ""

    @cached_property
    def hash(self) -> str:
        return hashlib.sha256(self.snapshot().encode()).hexdigest()

    def snapshot(self) -> str:
        return self._snapshot

    @cached_property
    def _snapshot(self) -> str:
        """The source as stored, made once (a bundle's source is never changed)."""
        return _canonical(self.source)

    @classmethod
    def from_snapshot(cls, text: str, path: str = "") -> Bundle:
        src = json.loads(text)
        return cls(
            process=ProcessDefinition.model_validate(src["process"]),
            parties=PartyRegistry.model_validate(src["parties"]),
            questionnaires={
                k: Questionnaire.model_validate(v) for k, v in src["questionnaires"].items()
            },
            source=src,
            path=path,
        )

    @property
    def participants(self) -> list[str]:
        chosen = self.process.participants
        return list(chosen) if chosen is not None else self.parties.slugs


def _sibling(process_path: Path, folder: str, ident: str) -> Path:
    return process_path.resolve().parent.parent / folder / f"{ident}.yaml"


def load_bundle(path: str | Path, *, reference_year: int | None = None) -> Bundle:
    """Read and check a process definition with everything it references."""
    p = Path(path)
    data, node = read_yaml(p)
    process = validate(ProcessDefinition, data, node, str(p))
    problems: list[Problem] = []

    parties_path = _sibling(p, "parties", process.parties)
    parties: PartyRegistry | None = None
    if not parties_path.exists():
        known = [f.stem for f in parties_path.parent.glob("*.yaml")]
        line, _ = locate(node, ("parties",))
        problems.append(
            Problem(
                str(p),
                line,
                f"partslisten {process.parties!r} findes ikke i "
                f"{parties_path.parent}{suggest(process.parties, known)}",
                "parties",
            )
        )
    else:
        pdata, pnode = read_yaml(parties_path)
        parties = validate(PartyRegistry, pdata, pnode, str(parties_path))

    questionnaires: dict[str, Questionnaire] = {}
    qsource: dict[str, Any] = {}
    for i, stage in enumerate(process.stages):
        if isinstance(stage, QuestionnaireStage) and stage.questionnaire not in questionnaires:
            qpath = _sibling(p, "questionnaires", stage.questionnaire)
            if not qpath.exists():
                known = [f.stem for f in qpath.parent.glob("*.yaml")]
                line, _ = locate(node, ("stages", i, "questionnaire"))
                problems.append(
                    Problem(
                        str(p),
                        line,
                        f"spørgeskemaet {stage.questionnaire!r} findes ikke i {qpath.parent}"
                        f"{suggest(stage.questionnaire, known)}",
                        f"stages.{i}.questionnaire",
                    )
                )
                continue
            qdata, qnode = read_yaml(qpath)
            questionnaires[stage.questionnaire] = validate(Questionnaire, qdata, qnode, str(qpath))
            qsource[stage.questionnaire] = qdata
    if problems:
        raise DefinitionError(problems)
    assert parties is not None
    bundle = Bundle(
        process=process,
        parties=parties,
        questionnaires=questionnaires,
        source={"process": data, "parties": pdata, "questionnaires": qsource},
        path=str(p),
    )
    problems = semantic_problems(bundle, node, str(p), reference_year)
    if problems:
        raise DefinitionError(problems)
    return bundle


# --------------------------------------------------------------------------- check


def _kind_of(data: dict[str, Any], path: Path) -> str:
    if path.parent.name == "calendars" or "councils" in data or "cycle" in data:
        return "calendar"
    if "stages" in data or path.parent.name == "processes":
        return "process"
    if "sections" in data or path.parent.name == "questionnaires":
        return "questionnaire"
    if (
        "parties" in data and isinstance(data.get("parties"), list)
    ) or path.parent.name == "parties":
        return "parties"
    return "process"


def check_file(path: str | Path, *, reference_year: int | None = None) -> list[Problem]:
    """All problems in one definition file (and what it references); empty when valid."""
    p = Path(path)
    try:
        data, node = read_yaml(p)
        kind = _kind_of(data, p)
        if kind == "process":
            load_bundle(p, reference_year=reference_year)
        elif kind == "questionnaire":
            validate(Questionnaire, data, node, str(p))
        elif kind == "calendar":
            from workflow.councils import load_calendars

            load_calendars(p)
        else:
            validate(PartyRegistry, data, node, str(p))
    except DefinitionError as e:
        return e.problems
    return []


def is_process_file(path: str | Path) -> bool:
    """True for a process definition (not a party registry, questionnaire or calendar)."""
    p = Path(path)
    try:
        data, _ = read_yaml(p)
    except DefinitionError:
        return False
    return _kind_of(data, p) == "process"
