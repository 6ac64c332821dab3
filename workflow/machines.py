"""The state machines, built with ``transitions`` (flat ``Machine``, ``auto_transitions=False``).

Each machine is built once and used as a checked transition table: ``fire(kind, state,
trigger)`` returns the next state or raises ``GuardRefused``. State lives in plain columns,
never on an ORM object that ``transitions`` could decorate (STACK.md pitfall 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from transitions import Machine

from workflow.errors import GuardRefused
from workflow.labels import label


@dataclass(frozen=True)
class MachineSpec:
    name: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[tuple[str, str | tuple[str, ...], str], ...]  # trigger, sources, dest
    final: tuple[str, ...] = ()


PROCESS = MachineSpec(
    "process",
    ("running", "blocked", "completed", "cancelled"),
    "running",
    (
        ("block", "running", "blocked"),
        ("unblock", "blocked", "running"),
        ("complete", "running", "completed"),
        ("cancel", ("running", "blocked"), "cancelled"),
    ),
    final=("completed", "cancelled"),
)

STAGE = MachineSpec(
    "stage",
    ("pending", "open", "completed", "blocked", "cancelled"),
    "pending",
    (
        ("open", "pending", "open"),
        ("complete", "open", "completed"),
        ("block", "open", "blocked"),
        ("unblock", "blocked", "open"),
        ("reopen", "completed", "open"),
        ("cancel", ("pending", "open", "blocked"), "cancelled"),
    ),
    final=("completed", "cancelled"),
)

_ACTIVE_Q = ("invited", "opened", "draft")
QUESTIONNAIRE_TASK = MachineSpec(
    "questionnaire_task",
    (
        "pending",
        "invited",
        "opened",
        "draft",
        "answered_by_mail",
        "submitted",
        "overdue",
        "late",
        "exempt",
    ),
    "pending",
    (
        ("invite", "pending", "invited"),
        ("remind", (*_ACTIVE_Q, "overdue"), "="),
        ("open_link", "invited", "opened"),
        ("save_draft", ("invited", "opened", "draft"), "draft"),
        ("submit", _ACTIVE_Q, "submitted"),
        ("submit", ("submitted",), "submitted"),
        ("submit", ("overdue", "late"), "late"),
        # a reply by mail: no reminder, overdue mark or escalation while the secretariat
        # confirms it (or transcribes it into the form, which submits as usual)
        ("receive_by_mail", (*_ACTIVE_Q, "overdue"), "answered_by_mail"),
        ("confirm_mail", "answered_by_mail", "submitted"),
        ("confirm_mail_late", "answered_by_mail", "late"),
        ("submit", ("answered_by_mail",), "submitted"),
        ("mark_overdue", _ACTIVE_Q, "overdue"),
        ("escalate", "overdue", "="),
        ("extend", ("overdue",), "invited"),
        ("exempt", ("pending", *_ACTIVE_Q, "overdue", "answered_by_mail"), "exempt"),
        ("reinstate", "exempt", "invited"),
    ),
    final=("submitted", "late", "exempt"),
)

APPROVAL_STEP = MachineSpec(
    "approval_step",
    ("pending", "requested", "approved", "rejected", "postponed", "exempt"),
    "pending",
    (
        ("request", "pending", "requested"),
        ("remind", ("requested", "postponed"), "="),
        ("approve", ("requested", "postponed", "rejected"), "approved"),
        ("reject", ("requested", "postponed"), "rejected"),
        ("postpone", ("requested", "postponed"), "postponed"),
        ("exempt", ("pending", "requested", "postponed"), "exempt"),
    ),
    final=("approved", "exempt"),
)

SPECS = {s.name: s for s in (PROCESS, STAGE, QUESTIONNAIRE_TASK, APPROVAL_STEP)}


class _Holder:
    """The model object ``transitions`` decorates while building (never a DB row)."""


@cache
def machine(name: str) -> Machine:
    spec = SPECS[name]
    m = Machine(
        model=_Holder(),
        states=list(spec.states),
        initial=spec.initial,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    for trigger, sources, dest in spec.transitions:
        src: list[Any] = [sources] if isinstance(sources, str) else list(sources)
        m.add_transition(trigger, src, dest)
    return m


@cache
def _table(name: str) -> dict[tuple[str, str], str]:
    m = machine(name)
    table: dict[tuple[str, str], str] = {}
    for trigger, event in m.events.items():
        for source, transitions in event.transitions.items():
            dest = transitions[0].dest
            table[(trigger, source)] = source if dest is None else dest
    return table


def fire(name: str, state: str, trigger: str) -> str:
    """The state after ``trigger`` from ``state``; ``GuardRefused`` if not allowed."""
    try:
        return _table(name)[(trigger, state)]
    except KeyError:
        allowed = sorted(t for (t, s) in _table(name) if s == state)
        what = f"{name.replace('_', ' ')} that is {state!r}"
        holder = _NAMES_DA.get(name, name)
        raise GuardRefused(
            f"Handlingen »{trigger}« er ikke mulig: {holder} har status »{label(state)}«"
            + (f"; mulige nu: {', '.join(allowed)}." if allowed else " (det er endeligt)."),
            en=f"Cannot {trigger.replace('_', ' ')} a {what}"
            + (f"; allowed now: {', '.join(allowed)}." if allowed else "; it is final."),
        ) from None


#: The machines as a Danish message names them.
_NAMES_DA = {
    "process": "processen",
    "stage": "fasen",
    "questionnaire_task": "spørgeskemaopgaven",
    "approval_step": "godkendelsestrinnet",
}


def can(name: str, state: str, trigger: str) -> bool:
    return (trigger, state) in _table(name)


def mermaid(
    name: str,
    *,
    state_label: Callable[[str], str] | None = None,
    trigger_label: Callable[[str], str] | None = None,
) -> str:
    """Mermaid ``stateDiagram-v2`` text of a machine, derived from the built machine. With
    ``state_label`` and ``trigger_label`` the states and arrows carry those names (the
    dashboard passes Danish ones); the state ids stay the code's."""
    spec = SPECS[name]
    table = sorted(_table(name).items(), key=lambda kv: (kv[0][1], kv[0][0]))
    lines = ["stateDiagram-v2"]
    if state_label is not None:
        states = sorted(
            {spec.initial, *spec.final} | {s for (_, s), d in table} | {d for _, d in table}
        )
        lines += [f'    state "{state_label(s)}" as {s}' for s in states]
    lines.append(f"    [*] --> {spec.initial}")
    for (trigger, source), dest in table:
        lines.append(
            f"    {source} --> {dest}: {trigger_label(trigger) if trigger_label else trigger}"
        )
    lines += [f"    {s} --> [*]" for s in spec.final]
    return "\n".join(lines)
