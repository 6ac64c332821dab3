"""What the tick does about workshop sign-ups (``workflow.signup_rules`` says when):
remind the parties that have signed nobody up, and tell the secretariat about a workshop
with fewer confirmed participants than its minimum (a mail and an audit event; the workshop
page shows the flag). Each is done once per workshop and recorded in the stage's ``outcome``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflow.mail import Mail
from workflow.planner import Action
from workflow.signup_rules import DONE_KEYS, FLAG_WORKSHOP, REMIND_SIGNUP, signup_window
from workflow.tx import ProcessTx
from workflow.workshops import ACTIVE, CONFIRMED, event_context, issue_signup_link, signups


def _done(tx: ProcessTx, a: Action) -> None:
    st = tx.stages[a.stage]
    key = DONE_KEYS[a.kind]
    outcome = dict(st.outcome or {})
    outcome[key] = [*outcome.get(key, []), a.step]
    st.outcome = outcome


def remind_signups(
    tx: ProcessTx, a: Action, at: datetime, actor: str, late: dict[str, Any]
) -> None:
    """Parties without a participant on the list get a reminder with their link."""
    _done(tx, a)
    window = signup_window(tx.bound, a.stage, a.step)
    if not window.open_for_signup(at):
        tx.event(at, actor, "workshop_reminders_skipped", stage=a.stage, step=a.step, data=late)
        return
    bundle = tx.bound.bundle
    roles = list(getattr(tx.bound.stage(a.stage).definition, "invite", []) or [])
    signed = {r.party for r in signups(tx, a.stage, a.step) if r.status in ACTIVE}
    reminded = []
    for slug in bundle.participants:
        recipients = tuple(c for r in roles for c in tx.addresses(slug, r))
        if slug in signed or not recipients:
            continue
        details = {
            "event": event_context(window),
            "link": issue_signup_link(tx, a.stage, slug, a.step, at),
            "signup": {"capacity": window.rules.capacity, "deadline": window.deadline.isoformat()},
        }
        tx.mail(
            Mail(
                kind="workshop_signup_reminder",
                stage=a.stage,
                party=slug,
                step=a.step,
                recipients=recipients,
                details=details,
                thread_under="meeting_invitation",
            ),
            at,
        )
        reminded.append(slug)
    data = {**late, "workshop": a.step, "parties": reminded}
    tx.event(at, actor, "workshop_reminders_sent", stage=a.stage, step=a.step, data=data)


def flag_workshop(tx: ProcessTx, a: Action, at: datetime, actor: str, late: dict[str, Any]) -> None:
    """Fewer confirmed than the minimum: the secretariat gets a mail (and the page a flag)."""
    _done(tx, a)
    window = signup_window(tx.bound, a.stage, a.step)
    confirmed = sum(1 for r in signups(tx, a.stage, a.step) if r.status == CONFIRMED)
    if confirmed >= window.rules.minimum:
        return
    numbers = {"confirmed": confirmed, "minimum": window.rules.minimum}
    tx.event(
        at,
        actor,
        "workshop_below_minimum",
        stage=a.stage,
        step=a.step,
        data={**late, "workshop": a.step, **numbers},
    )
    tx.mail(
        Mail(
            kind="workshop_below_minimum",
            stage=a.stage,
            step=a.step,
            recipients=(tx.bound.bundle.parties.secretariat,),
            details={
                "event": event_context(window),
                **numbers,
                "capacity": window.rules.capacity,
                "signup": {"deadline": window.deadline.isoformat()},
            },
        ),
        at,
    )


APPLY = {REMIND_SIGNUP: remind_signups, FLAG_WORKSHOP: flag_workshop}
