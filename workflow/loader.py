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
from workflow.signup_rules import signup_problems
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
    return f"; mente du {best[0]!r}?" if best else ""


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
            f" (gyldige nøgler: {', '.join(fields)})"
            if fields and not suggest(loc[-1], fields)
            else ""
        )
        return f"ukendt nøgle {loc[-1]!r}{suggest(loc[-1], fields)}{valid}"
    if kind == "missing":
        return f"nøglen {loc[-1]!r} mangler (den skal være der)"
    if kind in ("literal_error", "enum"):
        expected = [
            x.strip(" '") for x in str(ctx.get("expected", "")).replace(" or ", ",").split(",")
        ]
        allowed = str(ctx.get("expected", "")).replace(" or ", " eller ")
        return f"{value!r} er ikke en af {allowed}{suggest(str(value), expected)}"
    if kind == "union_tag_invalid":
        expected = [x.strip(" '") for x in str(ctx.get("expected_tags", "")).split(",")]
        return (
            f"kind {ctx.get('tag')!r} er ikke en af {ctx.get('expected_tags')}"
            f"{suggest(str(ctx.get('tag')), expected)}"
        )
    if kind == "union_tag_not_found":
        return "hver fase skal have en 'kind'"
    if kind == "string_type" and isinstance(value, bool):
        return (
            f"her skal stå tekst, men YAML læste {value!r} (YAML gør yes/no/on/off til "
            "sand/falsk); sæt værdien i anførselstegn"
        )
    if kind == "string_type" and isinstance(value, int | float):
        return f"her skal stå tekst, men der står tallet {value!r}; sæt værdien i anførselstegn"
    if kind in ("int_type", "int_parsing") and isinstance(value, float):
        return f"her skal stå et helt tal, men der står {value!r}"
    if kind == "int_type" and isinstance(value, str):
        return f"her skal stå et helt tal, men der står teksten {value!r}; fjern anførselstegnene"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        found = {
            list: "en liste",
            str: "tekst",
            bool: "en ja/nej-værdi",
            int: "et tal",
            float: "et tal",
        }.get(type(value), f"en {type(value).__name__}")
        if value is None:
            found = "ingenting"
        return f"her skal stå en tabel (linjer med nøgle: værdi), men der står {found}"
    if kind == "list_type":
        found = "en tabel" if isinstance(value, dict) else f"{value!r}"
        return f"her skal stå en liste (linjer, der begynder med '- ', eller [a, b]), men der står {found}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} er ikke et gyldigt id: brug små bogstaver, cifre, '-' og '_'"
    if kind in _PLAIN:
        try:
            return _PLAIN[kind].format(**{**ctx, "value": value})
        except (KeyError, IndexError, ValueError):
            pass
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


#: Pydantic's own messages a definition can meet, in Danish ({value} is what was written).
_PLAIN = {
    "int_parsing": "{value!r} er ikke et helt tal",
    "int_type": "{value!r} er ikke et helt tal",
    "int_from_float": "{value!r} er ikke et helt tal",
    "float_parsing": "{value!r} er ikke et tal",
    "float_type": "{value!r} er ikke et tal",
    "bool_parsing": "{value!r} er ikke en ja/nej-værdi; skriv true eller false",
    "bool_type": "{value!r} er ikke en ja/nej-værdi; skriv true eller false",
    "string_type": "her skal stå tekst, men der står {value!r}",
    "greater_than_equal": "{value!r} skal være mindst {ge}",
    "greater_than": "{value!r} skal være større end {gt}",
    "less_than_equal": "{value!r} må højst være {le}",
    "less_than": "{value!r} skal være mindre end {lt}",
    "string_too_short": "teksten er for kort (mindst {min_length} tegn)",
    "string_too_long": "teksten er for lang (højst {max_length} tegn)",
    "too_short": "der skal være mindst {min_length}",
    "too_long": "der må højst være {max_length}",
}


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


# --------------------------------------------------------------------------- semantic checks


def semantic_problems(
    bundle: Bundle, node: yaml.Node | None, file: str, reference_year: int | None = None
) -> list[Problem]:
    """Checks that need more than one field: order of stages and dates, references."""
    from workflow.forum_checks import forum_problems
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
            at(("stages", i, "id"), f"fase-id'et {stage.id!r} er brugt to gange")
        seen.add(stage.id)

    year = reference_year or 2022
    for i, stage in enumerate(proc.stages):
        opens = DateExpr.parse(stage.opens)
        for j, req in enumerate(stage.requires or []):
            if req not in ids:
                at(("stages", i, "requires", j), f"ukendt fase {req!r}{suggest(req, ids)}")
            elif ids.index(req) >= i:
                at(
                    ("stages", i, "requires", j),
                    f"fasen {stage.id!r} kræver {req!r}, som kommer efter den; "
                    "faserne står i den rækkefølge, de kører",
                )
        for req in proc.requirements(stage.id):
            if req in ids and ids.index(req) < i:
                before = DateExpr.parse(proc.stage(req).opens)
                if opens.sort_key(year) < before.sort_key(year):
                    at(
                        ("stages", i, "opens"),
                        f"fasen {stage.id!r} åbner {opens}, men fasen før den, {req!r}, "
                        f"åbner senere ({before}): faserne står i forkert rækkefølge",
                    )
        if stage.closes and DateExpr.parse(stage.closes).sort_key(year) < opens.sort_key(year):
            at(
                ("stages", i, "closes"),
                f"fasen {stage.id!r} lukker ({stage.closes}), før den åbner ({stage.opens})",
            )
        if isinstance(stage, QuestionnaireStage):
            send = DateExpr.parse(stage.send)
            if send.sort_key(year) < opens.sort_key(year):
                at(
                    ("stages", i, "send"),
                    f"afsendelsesdatoen {stage.send} ligger før fasen åbner ({stage.opens})",
                )
            if stage.deadline and DateExpr.parse(stage.deadline).sort_key(year) <= send.sort_key(
                year
            ):
                at(
                    ("stages", i, "deadline"),
                    f"fristen {stage.deadline} ligger ikke efter afsendelsesdatoen {stage.send}",
                )
            if stage.deadline_working_days is not None and stage.deadline_working_days < 1:
                at(("stages", i, "deadline_working_days"), "skal være mindst 1 arbejdsdag")
            q = bundle.questionnaires.get(stage.questionnaire)
            if q is not None:
                qids = [x.id for x in q.questions]
                for j, qid in enumerate(stage.report_questions):
                    if qid not in qids:
                        at(
                            ("stages", i, "report_questions", j),
                            f"ukendt spørgsmål {qid!r} i spørgeskemaet {q.id!r}{suggest(qid, qids)}",
                        )
        if isinstance(stage, ApprovalStage) and DateExpr.parse(stage.deadline).sort_key(
            year
        ) < opens.sort_key(year):
            at(
                ("stages", i, "deadline"),
                f"fristen {stage.deadline} ligger før fasen åbner ({stage.opens})",
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
            for sloc, message in signup_problems(stage, ev, year):
                at((*loc, *sloc), message)
            if d.sort_key(year) < opens.sort_key(year) or (
                stage.closes and d.sort_key(year) > DateExpr.parse(stage.closes).sort_key(year)
            ):
                at(
                    (*loc, "date"),
                    f"{ev.title!r} den {ev.date} ligger uden for fasen "
                    f"({stage.opens} til {stage.closes or 'åben slutning'})",
                )

    for loc, message in forum_problems(proc):
        at(loc, message)

    slugs = bundle.parties.slugs
    for j, slug in enumerate(proc.participants or []):
        if slug not in slugs:
            at(("participants", j), f"ukendt part {slug!r}{suggest(slug, slugs)}")

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
