"""The new version of a running process's definition, read from one edited file: a process
definition (its party registry and questionnaires beside it, or else the ones the process
runs now) or a questionnaire (it takes the place of the one with its id)."""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path
from tempfile import TemporaryDirectory

from workflow.definition_errors import validate
from workflow.definition_questions import Questionnaire
from workflow.errors import DefinitionError, Problem
from workflow.loader import Bundle, is_process_file, load_bundle
from workflow.yaml_source import read_yaml


def load_new_version(
    current: Bundle, path: Path, year: int, *, shown: str = "", beside: bool = True
) -> Bundle:
    """The definition ``current`` becomes with the file ``path`` (``shown``: its name in
    messages and in the process's record, e.g. an uploaded file's name). A process
    definition takes the registry and questionnaires beside it when there are (``beside``;
    not for an upload, which stands alone), else the ones the process runs now."""
    name = shown or str(path)
    try:
        return _load(current, path, year, name, beside)
    except DefinitionError as e:
        if not shown:
            raise
        here = str(path.parent)
        raise DefinitionError(
            [
                Problem(
                    name if p.file == str(path) else Path(p.file).name, p.line, p.message, p.field
                )
                if p.file.startswith(here)
                else p
                for p in e.problems
            ]
        ) from None


def _load(current: Bundle, path: Path, year: int, name: str, beside: bool) -> Bundle:
    if is_process_file(path):
        return _process(current, path, year, name, beside)
    data, node = read_yaml(path)
    if isinstance(data, dict) and "sections" in data:
        q = validate(Questionnaire, data, node, name)
        if q.id not in current.questionnaires:
            known = ", ".join(sorted(current.questionnaires)) or "ingen"
            raise DefinitionError(
                [
                    Problem(
                        name, None, f"processen bruger intet spørgeskema {q.id!r} ({known})", "id"
                    )
                ]
            )
        src = deepcopy(current.source)
        src["questionnaires"][q.id] = data
        return Bundle.from_snapshot(json.dumps(src, default=str), path=current.path)
    raise DefinitionError(
        [Problem(name, None, "filen er hverken en procesdefinition eller et spørgeskema", "")]
    )


def _process(current: Bundle, path: Path, year: int, name: str, beside: bool) -> Bundle:
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        raise DefinitionError([Problem(name, 1, "filen er ikke en procesdefinition", "")])
    root = path.resolve().parent.parent
    parties = root / "parties" / f"{data.get('parties')}.yaml"
    if beside and parties.exists():
        return load_bundle(path, reference_year=year)
    # an uploaded file alone: the registry and questionnaires the process runs now beside it
    with TemporaryDirectory(prefix="aftaleflow-upload-") as tmp:
        base = Path(tmp)
        for folder in ("processes", "parties", "questionnaires"):
            (base / folder).mkdir()
        target = base / "processes" / path.name
        target.write_bytes(path.read_bytes())
        registry = current.source["parties"]
        slug = str(data.get("parties") or current.process.parties)
        (base / "parties" / f"{slug}.yaml").write_text(json.dumps(registry, default=str))
        for ident, q in current.source["questionnaires"].items():
            (base / "questionnaires" / f"{ident}.yaml").write_text(json.dumps(q, default=str))
        try:
            got = load_bundle(target, reference_year=year)
        except DefinitionError as e:
            raise DefinitionError(
                [Problem(name, p.line, p.message, p.field) for p in e.problems]
            ) from None
    return Bundle(got.process, got.parties, got.questionnaires, got.source, path=name)
