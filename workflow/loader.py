"""Reading definition files: YAML with line numbers → validated models → a hashed bundle.

Every problem is reported as ``file:line: [field] message`` with the nearest valid name
when a name is misspelt. Nothing here raises anything but ``DefinitionError``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from workflow.definition import (
    ApprovalStage,
    DateExpr,
    Event,
    MeetingStage,
    PartyRegistry,
    ProcessDefinition,
    Questionnaire,
    QuestionnaireStage,
    WorkshopStage,
)
from workflow.errors import DefinitionError, Problem
from workflow.yaml_source import locate, read_yaml

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- error messages


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Walk model annotations along a pydantic error location."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part in tp.model_fields:
                tp = tp.model_fields[part].annotation
                continue
            return None
        if origin in (typing.Union, types.UnionType):
            for arg in typing.get_args(tp):
                arg = _unwrap(arg)
                kind = getattr(arg, "model_fields", {}).get("kind")
                if kind is not None and part in typing.get_args(kind.annotation):
                    tp = arg
                    break
            else:
                return None
            continue
        if origin is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
            continue
        if origin is dict:
            tp = typing.get_args(tp)[1]
            continue
        return None
    tp = _unwrap(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return None
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _yaml_loc(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pydantic error location as a path in the YAML file.

    Pydantic puts the tag of a discriminated union (``stages.3.meeting.opens``) and
    ``[key]`` (a bad mapping key) into locations; neither is in the file.
    """
    tp: Any = root
    out: list[Any] = []
    for part in loc:
        if part == "[key]":
            continue
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            tagged = None
            for arg in typing.get_args(tp):
                arg = _unwrap(arg)
                kind = getattr(arg, "model_fields", {}).get("kind")
                if kind is not None and part in typing.get_args(kind.annotation):
                    tagged = arg
            if tagged is not None:
                tp = tagged
                continue
            tp = None
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            tp = field.annotation if field else None
        elif origin is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            tp = None
        out.append(part)
    return tuple(out)


def suggest(name: str, candidates: typing.Iterable[str]) -> str:
    best = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {best[0]!r}?" if best else ""


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _message(root: type[BaseModel], err: Any) -> str:
    kind = err["type"]
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        fields = list(model.model_fields) if model else []
        valid = (
            f" (valid keys: {', '.join(fields)})" if fields and not suggest(loc[-1], fields) else ""
        )
        return f"unknown key {loc[-1]!r}{suggest(loc[-1], fields)}{valid}"
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing"
    if kind in ("literal_error", "enum"):
        expected = [
            x.strip(" '") for x in str(ctx.get("expected", "")).replace(" or ", ",").split(",")
        ]
        return f"{value!r} is not one of {ctx.get('expected')}{suggest(str(value), expected)}"
    if kind == "union_tag_invalid":
        expected = [x.strip(" '") for x in str(ctx.get("expected_tags", "")).split(",")]
        return (
            f"kind {ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
            f"{suggest(str(ctx.get('tag')), expected)}"
        )
    if kind == "union_tag_not_found":
        return "every stage needs a 'kind'"
    if kind == "string_type" and isinstance(value, bool):
        return (
            f"expected text but YAML read {value!r} (YAML turns yes/no/on/off into booleans); "
            "put the value in quotes"
        )
    if kind == "string_type" and isinstance(value, int | float):
        return f"expected text but found the number {value!r}; put the value in quotes"
    if kind in ("int_type", "int_parsing") and isinstance(value, float):
        return f"expected a whole number, found {value!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        found = {
            list: "a list",
            str: "text",
            bool: "a yes/no value",
            int: "a number",
            float: "a number",
        }.get(type(value), f"a {type(value).__name__}")
        if value is None:
            found = "nothing"
        return f"expected a mapping (key: value lines), found {found}"
    if kind == "list_type":
        found = "a mapping" if isinstance(value, dict) else f"{value!r}"
        return f"expected a list (lines starting with '- ' or [a, b]), found {found}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not a valid id: use lowercase letters, digits, '-' and '_'"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def validate(model: type[M], data: Any, node: yaml.Node | None, file: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            part = getattr((err.get("ctx") or {}).get("error"), "loc", ())
            loc = _yaml_loc(model, tuple(err["loc"])) + tuple(part)
            if err["type"] == "union_tag_invalid":
                loc += ("kind",)  # name the line of the misspelt kind, not the stage
            line, _ = locate(node, loc)
            problems.append(Problem(file, line, _message(model, err), _dotted(loc)))
        raise DefinitionError(problems) from None


# --------------------------------------------------------------------------- the bundle


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
                f"party registry {process.parties!r} not found in "
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
                        f"questionnaire {stage.questionnaire!r} not found in {qpath.parent}"
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


# --------------------------------------------------------------------------- semantic checks


def semantic_problems(
    bundle: Bundle, node: yaml.Node | None, file: str, reference_year: int | None = None
) -> list[Problem]:
    """Checks that need more than one field: order of stages and dates, references."""
    from workflow.timeline import bind  # timeline imports the definition model only

    proc = bundle.process
    problems: list[Problem] = []

    def at(loc: tuple[Any, ...], message: str) -> None:
        line, _ = locate(node, loc)
        problems.append(Problem(file, line, message, _dotted(loc)))

    ids = [s.id for s in proc.stages]
    seen: set[str] = set()
    for i, stage in enumerate(proc.stages):
        if stage.id in seen:
            at(("stages", i, "id"), f"stage id {stage.id!r} is used twice")
        seen.add(stage.id)

    year = reference_year or 2022
    for i, stage in enumerate(proc.stages):
        opens = DateExpr.parse(stage.opens)
        for j, req in enumerate(stage.requires or []):
            if req not in ids:
                at(("stages", i, "requires", j), f"unknown stage {req!r}{suggest(req, ids)}")
            elif ids.index(req) >= i:
                at(
                    ("stages", i, "requires", j),
                    f"stage {stage.id!r} requires {req!r}, which comes after it; "
                    "stages are listed in the order they run",
                )
        for req in proc.requirements(stage.id):
            if req in ids and ids.index(req) < i:
                before = DateExpr.parse(proc.stage(req).opens)
                if opens.sort_key(year) < before.sort_key(year):
                    at(
                        ("stages", i, "opens"),
                        f"stage {stage.id!r} opens {opens} but the stage before it, {req!r}, "
                        f"opens later ({before}): stages are out of order",
                    )
        if stage.closes and DateExpr.parse(stage.closes).sort_key(year) < opens.sort_key(year):
            at(
                ("stages", i, "closes"),
                f"stage {stage.id!r} closes ({stage.closes}) before it opens ({stage.opens})",
            )
        if isinstance(stage, QuestionnaireStage):
            send = DateExpr.parse(stage.send)
            if send.sort_key(year) < opens.sort_key(year):
                at(
                    ("stages", i, "send"),
                    f"send date {stage.send} is before the stage opens ({stage.opens})",
                )
            if stage.deadline and DateExpr.parse(stage.deadline).sort_key(year) <= send.sort_key(
                year
            ):
                at(
                    ("stages", i, "deadline"),
                    f"deadline {stage.deadline} is not after the send date {stage.send}",
                )
            if stage.deadline_working_days is not None and stage.deadline_working_days < 1:
                at(("stages", i, "deadline_working_days"), "must be at least 1 working day")
            q = bundle.questionnaires.get(stage.questionnaire)
            if q is not None:
                qids = [x.id for x in q.questions]
                for j, qid in enumerate(stage.report_questions):
                    if qid not in qids:
                        at(
                            ("stages", i, "report_questions", j),
                            f"unknown question {qid!r} in questionnaire {q.id!r}{suggest(qid, qids)}",
                        )
        if isinstance(stage, ApprovalStage) and DateExpr.parse(stage.deadline).sort_key(
            year
        ) < opens.sort_key(year):
            at(
                ("stages", i, "deadline"),
                f"deadline {stage.deadline} is before the stage opens ({stage.opens})",
            )
        events: list[tuple[tuple[Any, ...], Event]] = []
        if isinstance(stage, WorkshopStage):
            events = [(("stages", i, "workshops", k), w) for k, w in enumerate(stage.workshops)]
        elif isinstance(stage, MeetingStage) or getattr(stage, "meeting", None) is not None:
            m = getattr(stage, "meeting", None)
            if m is not None:
                events = [(("stages", i, "meeting"), m)]
        for loc, ev in events:
            d = DateExpr.parse(ev.date)
            if d.sort_key(year) < opens.sort_key(year) or (
                stage.closes and d.sort_key(year) > DateExpr.parse(stage.closes).sort_key(year)
            ):
                at(
                    (*loc, "date"),
                    f"{ev.title!r} on {ev.date} falls outside the stage "
                    f"({stage.opens} to {stage.closes or 'open end'})",
                )

    slugs = bundle.parties.slugs
    for j, slug in enumerate(proc.participants or []):
        if slug not in slugs:
            at(("participants", j), f"unknown party {slug!r}{suggest(slug, slugs)}")

    if problems:
        return problems
    # Bind to a real year: catches Y-02-29 in a common year and reminders outside the stage.
    try:
        bind(bundle, year)
    except DefinitionError as e:
        for prob in e.problems:
            loc = (
                tuple(int(x) if x.isdigit() else x for x in prob.field.split("."))
                if prob.field
                else ()
            )
            line, _ = locate(node, loc)
            problems.append(Problem(file, line, prob.message, prob.field))
    return problems


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


def line_of(path: str | Path, field: str) -> int | None:
    """The line of a dotted field (``stages.3.meeting.date``) in a YAML file, for reports."""
    try:
        _, node = read_yaml(Path(path))
    except DefinitionError:
        return None
    loc = tuple(int(x) if x.isdigit() else x for x in field.split(".")) if field else ()
    line, _ = locate(node, loc)
    return line


def is_process_file(path: str | Path) -> bool:
    """True for a process definition (not a party registry, questionnaire or calendar)."""
    p = Path(path)
    try:
        data, _ = read_yaml(p)
    except DefinitionError:
        return False
    return _kind_of(data, p) == "process"


def line_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest node on ``loc`` (keys and list indexes) in a node tree."""
    line, _ = locate(node, loc)
    return line
