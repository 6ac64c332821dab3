"""Checks of what follows an earlier stage (``workflow.definition_follows``): a date's
``after`` names an earlier stage or an earlier date of the same stage; ``choices_from`` and
``one_per`` name a value an earlier decision declares. Danish messages, each at its field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from workflow.definition import DecisionStage, QuestionnaireStage, Stage, WorkshopStage
from workflow.definition_errors import suggest
from workflow.definition_follows import OWN_DATES, After, split_ref

if TYPE_CHECKING:
    from workflow.loader import Bundle

Found = tuple[tuple[Any, ...], str]


def follows_problems(bundle: Bundle) -> Iterator[Found]:
    proc = bundle.process
    ids = [s.id for s in proc.stages]
    for i, st in enumerate(proc.stages):
        for field in OWN_DATES:
            rule = getattr(st, field, None)
            if isinstance(rule, After):
                message = _after_problem(st, i, field, rule, ids)
                if message:
                    yield ("stages", i, field, "after"), message
        if isinstance(st, WorkshopStage) and st.one_per:
            yield from _one_per_problems(bundle, i, st, ids)
        if isinstance(st, QuestionnaireStage):
            yield from _choices_problems(bundle, i, st, ids)


def _after_problem(st: Stage, i: int, field: str, rule: After, ids: list[str]) -> str | None:
    if rule.own:
        if OWN_DATES.index(rule.after) >= OWN_DATES.index(field):
            return (
                f"{field} kan ikke følge {rule.after}: en dato følger kun en af fasens "
                f"tidligere datoer ({', '.join(OWN_DATES[: OWN_DATES.index(field)])}), "
                "ellers peger datoerne på hinanden i ring"
            )
        if getattr(st, rule.after, None) is None:
            return f"{field} følger {rule.after}, men fasen har ingen {rule.after}"
        return None
    if rule.after == st.id:
        return f"fasen {st.id!r} kan ikke følge sig selv (datoerne ville pege på hinanden i ring)"
    if rule.after not in ids:
        return f"ukendt fase {rule.after!r}{suggest(rule.after, ids)}"
    if ids.index(rule.after) > i:
        return (
            f"fasen {rule.after!r} kommer efter {st.id!r}; en dato kan kun følge en tidligere "
            "fase (faserne står i den rækkefølge, de kører)"
        )
    return None


def _ref_problem(bundle: Bundle, i: int, ref: str, ids: list[str]) -> str | None:
    """What is wrong with ``STAGE.VALUE`` used by the stage at index ``i``; None if nothing."""
    parts = split_ref(ref)
    if parts is None:
        return f"{ref!r} skal skrives FASE.VÆRDI, fx kkr-igangsaetter.focus_areas"
    sid, key = parts
    if sid not in ids:
        return f"ukendt fase {sid!r}{suggest(sid, ids)}"
    st = bundle.process.stage(sid)
    if not isinstance(st, DecisionStage):
        return f"fasen {sid!r} er ikke en beslutning og beslutter ingen værdier"
    if key not in st.decides:
        known = list(st.decides)
        return f"fasen {sid!r} beslutter ikke {key!r}{suggest(key, known)}"
    if ids.index(sid) >= i:
        return f"beslutningen {sid!r} kommer ikke før fasen, der bruger den"
    return None


def _one_per_problems(bundle: Bundle, i: int, st: WorkshopStage, ids: list[str]) -> Iterator[Found]:
    assert st.one_per is not None
    message = _ref_problem(bundle, i, st.one_per, ids)
    if message:
        yield ("stages", i, "one_per"), message
        return
    got = bundle.process.decision_value(st.one_per)
    assert got is not None
    spec = got[0].decides[got[1]]
    options = [o.value for o in spec.options]
    held: dict[str, str] = {}
    for k, w in enumerate(st.workshops):
        if w.focus_area is None:
            yield ("stages", i, "workshops", k), f"workshoppen {w.id!r} mangler focus_area"
        elif w.focus_area not in options:
            yield (
                ("stages", i, "workshops", k, "focus_area"),
                f"{w.focus_area!r} er ikke en af mulighederne i {st.one_per}"
                f"{suggest(w.focus_area, options)}",
            )
        elif w.focus_area in held:
            yield (
                ("stages", i, "workshops", k, "focus_area"),
                f"{w.focus_area!r} har allerede workshoppen {held[w.focus_area]!r}; én pr. værdi",
            )
        else:
            held[w.focus_area] = w.id
    for value in options:
        if value not in held and st.workshops:
            yield (
                ("stages", i, "one_per"),
                f"ingen workshop for {value!r}, som {got[0].id!r} kan vælge",
            )


def _choices_problems(
    bundle: Bundle, i: int, st: QuestionnaireStage, ids: list[str]
) -> Iterator[Found]:
    q = bundle.questionnaires.get(st.questionnaire)
    if q is None:
        return
    for x in q.questions:
        if x.choices_from is None:
            continue
        parts = split_ref(x.choices_from)
        if parts is not None and parts[0] not in ids and x.options:
            continue  # a process without that decision uses the question's own options
        message = _ref_problem(bundle, i, x.choices_from, ids)
        if message:
            yield (
                ("stages", i, "questionnaire"),
                f"spørgsmålet {x.id!r} i {q.id!r} tager svarmuligheder fra "
                f"{x.choices_from}: {message}",
            )
