"""The state machines: built with transitions, used as checked tables, drawn as Mermaid."""

from __future__ import annotations

import pytest

from workflow import machines
from workflow.errors import GuardRefused


def test_questionnaire_task_happy_path_and_late_answer() -> None:
    s = "pending"
    for trigger in ("invite", "open_link", "save_draft", "submit"):
        s = machines.fire("questionnaire_task", s, trigger)
    assert s == "submitted"
    assert machines.fire("questionnaire_task", "submitted", "submit") == "submitted"  # re-submit
    assert machines.fire("questionnaire_task", "overdue", "submit") == "late"


def test_a_refused_transition_says_what_is_allowed() -> None:
    with pytest.raises(GuardRefused, match="mulige nu: reopen"):
        machines.fire("stage", "completed", "open")
    with pytest.raises(GuardRefused, match="det er endeligt"):
        machines.fire("process", "completed", "block")


def test_the_machines_are_real_transitions_machines_without_auto_transitions() -> None:
    m = machines.machine("approval_step")
    assert "to_approved" not in m.events  # auto_transitions=False
    assert set(m.states) == set(machines.APPROVAL_STEP.states)


def test_mermaid_lists_every_transition() -> None:
    text = machines.mermaid("approval_step")
    assert text.startswith("stateDiagram-v2")
    assert "requested --> approved: approve" in text
    assert "[*] --> pending" in text
