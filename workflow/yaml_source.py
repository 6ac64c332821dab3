"""Definition files as YAML with line numbers: UTF-8 only, dates kept as text, no key twice.

``read_yaml`` gives the data and its node tree; ``locate`` finds the line of a path in it.
Every problem is a ``DefinitionError`` naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workflow.errors import DefinitionError, Problem


class _Loader(yaml.SafeLoader):
    """YAML as a definition needs it: dates stay text, and a bad scalar names its line.

    A definition's dates are expressions (``Y-05-20``, ``Y+1-01-10``, ``2016-10-24``) checked by
    the model, so an unquoted ``2022-05-20`` is read as the text ``2022-05-20``, the same as
    ``"2022-05-20"``, and an impossible ``2022-02-30`` reaches the date check with its line.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as e:  # e.g. !!int abc, !!float x
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} kan ikke læses ({e})", node.start_mark
            ) from None


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _decode(path: Path, raw: bytes) -> str:
    """The text of a definition file, which must be UTF-8; else the line where it is not."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        line = raw[: max(raw.find(b"\x00"), 0)].count(b"\n") + 1
        raise DefinitionError(
            [
                Problem(
                    str(path),
                    line,
                    "filen er gemt som UTF-16, ikke UTF-8: gem filen som UTF-8 "
                    "(i Notesblok: Gem som, Kodning: UTF-8)",
                )
            ]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        bad = raw[e.start : e.start + 1]
        guess = bad.decode("cp1252", errors="replace")
        raise DefinitionError(
            [
                Problem(
                    str(path),
                    line,
                    f"filen er ikke UTF-8 (byte 0x{bad.hex()} her, {guess!r} i "
                    "Windows-1252): gem filen som UTF-8 (i Notesblok: Gem som, Kodning: UTF-8)",
                )
            ]
        ) from None


def _duplicate_keys(node: yaml.Node | None, file: str) -> list[Problem]:
    """Every key written twice in one mapping (YAML would silently keep the last)."""
    problems: list[Problem] = []
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(node, ())] if node is not None else []
    while stack:
        current, loc = stack.pop()
        if isinstance(current, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in current.value:
                stack.append((v, (*loc, k.value)))
                if not isinstance(k, yaml.ScalarNode):
                    continue
                line = k.start_mark.line + 1
                if k.value in first:
                    problems.append(
                        Problem(
                            file,
                            line,
                            f"nøglen {k.value!r} står to gange samme sted (linje "
                            f"{first[k.value]} og {line}); behold den ene",
                            ".".join(str(x) for x in (*loc, k.value)),
                        )
                    )
                else:
                    first[k.value] = line
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(current.value))
    return sorted(problems, key=lambda p: p.line or 0)


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DefinitionError([Problem(str(path), None, "filen findes ikke")]) from None
    except OSError as e:
        raise DefinitionError([Problem(str(path), None, f"filen kan ikke læses: {e}")]) from None
    text = _decode(path, raw)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            duplicates = _duplicate_keys(node, str(path))
            if duplicates:
                raise DefinitionError(duplicates)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = f"ikke gyldig YAML: {e.problem or e}"
        if e.context_mark and "flow" in (e.context or ""):
            # an unclosed [ or {: the parser notices on a later line; name where it starts
            mark = e.context_mark
            msg += f" ({e.context}; mangler der en afsluttende parentes?)"
        line = mark.line + 1 if mark else None
        raise DefinitionError([Problem(str(path), line, msg)]) from None
    except yaml.reader.ReaderError as e:
        line = text[: max(e.position, 0)].count("\n") + 1
        raise DefinitionError(
            [
                Problem(
                    str(path),
                    line,
                    f"ikke gyldig YAML: et tegn, der ikke kan stå i tekst ({e.reason})",
                )
            ]
        ) from None
    except yaml.YAMLError as e:
        raise DefinitionError([Problem(str(path), None, f"ikke gyldig YAML: {e}")]) from None
    if data is None:
        raise DefinitionError(
            [Problem(str(path), 1, "filen er tom; den skal rumme en tabel (nøgle: værdi)")]
        )
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise DefinitionError(
            [Problem(str(path), line, "filen skal rumme en tabel (nøgle: værdi) øverst")]
        )
    return data, node


def locate(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int | None, bool]:
    """The line of the deepest YAML node on ``loc``; True if the last key itself was found."""
    if node is None:
        return None, False
    line = node.start_mark.line + 1
    found_key = False
    for i, part in enumerate(loc):
        found_key = False
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    if i == len(loc) - 1:
                        line = k.start_mark.line + 1
                        found_key = True
                    else:
                        line = v.start_mark.line + 1
                    node = v
                    break
            else:
                continue  # a union tag or a missing key: stay on this node
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        # scalars: nothing deeper
    return line, found_key
