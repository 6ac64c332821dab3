"""Problems in a definition file, told at their line: a pydantic error as ``file:line: [field]
message`` in Danish, with the nearest valid name when a name is misspelt (``suggest``).

``validate`` is the one way a definition model is read from YAML data; ``line_at`` and
``line_of`` find the line of a field for the checks that need more than one field.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from workflow.errors import DefinitionError, Problem
from workflow.yaml_source import locate, read_yaml

M = TypeVar("M", bound=BaseModel)


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


def dotted(loc: tuple[Any, ...]) -> str:
    """A location as the ``field`` of a problem: ``stages.3.meeting.date``."""
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
    typed = _type_message(kind, value)
    if typed is not None:
        return typed
    if kind == "string_pattern_mismatch":
        return f"{value!r} er ikke et gyldigt id: brug små bogstaver, cifre, '-' og '_'"
    if kind in _PLAIN:
        try:
            return _PLAIN[kind].format(**{**ctx, "value": value})
        except (KeyError, IndexError, ValueError):
            pass
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _type_message(kind: str, value: Any) -> str | None:
    """A value of the wrong type, named as what the file shows (text, a number, a table)."""
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
    return None


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
            problems.append(Problem(file, line, _message(model, err), dotted(loc)))
        raise DefinitionError(problems) from None


# --------------------------------------------------------------------------- the bundle


def line_of(path: str | Path, field: str) -> int | None:
    """The line of a dotted field (``stages.3.meeting.date``) in a YAML file, for reports."""
    try:
        _, node = read_yaml(Path(path))
    except DefinitionError:
        return None
    loc = tuple(int(x) if x.isdigit() else x for x in field.split(".")) if field else ()
    line, _ = locate(node, loc)
    return line


def line_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest node on ``loc`` (keys and list indexes) in a node tree."""
    line, _ = locate(node, loc)
    return line
