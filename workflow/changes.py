"""The changes the tick and the commands share: opening and completing a stage, a task's mails
and personal link, telling the secretariat. Each takes the ``ProcessTx`` it changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflow import machines
from workflow.calendar import next_office_moment, to_local
from workflow.dates import format_short
from workflow.definition import ApprovalStage, QuestionnaireStage
from workflow.errors import GuardRefused
from workflow.links import make_token, token_hash
from workflow.mail import Mail, due_at, iso_day
from workflow.step_plan import plan_requested_step
from workflow.storage.records import StageRecord, TaskRecord
from workflow.timeline import BoundEvent, BoundStage
from workflow.tx import ProcessTx
from workflow.workshops import signup_details

#: A process's or stage's state in a sentence ("the stage is …"): Danish, English.
STATES: dict[str, tuple[str, str]] = {
    "pending": ("ikke åbnet endnu", "not open yet"),
    "open": ("åben", "open"),
    "blocked": ("blokeret", "blocked"),
    "completed": ("afsluttet", "completed"),
    "cancelled": ("annulleret", "cancelled"),
    "running": ("i gang", "running"),
}
#: A manual stage change (the machine's trigger): the verb, and the state it is done from.
_CHANGES: dict[str, tuple[str, str, str, str]] = {
    "open": (
        "åbnes",
        "opened",
        "en fase, der ikke er åbnet endnu,",
        "a stage that is not open yet",
    ),
    "complete": ("lukkes", "closed", "en åben fase", "an open stage"),
    "reopen": ("genåbnes", "reopened", "en afsluttet fase", "a completed stage"),
}


def state_da(status: str) -> str:
    return STATES.get(status, (status, status))[0]


def state_en(status: str) -> str:
    return STATES.get(status, (status, status))[1]


def stage_name(tx: ProcessTx, stage_id: str) -> str:
    """How a message names a stage: its name from the definition."""
    return tx.bound.stage(stage_id).definition.name


def guarded_stage(tx: ProcessTx, stage_id: str, trigger: str) -> StageRecord:
    """The stage for a manual stage change (``open``, ``complete``, ``reopen``), refused
    unless the process runs and the machine allows it."""
    verb, verb_en, only, only_en = _CHANGES[trigger]
    p = tx.process
    if p.status != "running":
        raise GuardRefused(
            f"Processen {p.key} er {state_da(p.status)}; en fase kan kun {verb}, "
            "mens processen er i gang.",
            en=f"The process {p.key} is {state_en(p.status)}; a stage can only be {verb_en} "
            "while it runs.",
        )
    stage = tx.stage(stage_id)
    if not machines.can("stage", stage.status, trigger):
        name = stage_name(tx, stage_id)
        raise GuardRefused(
            f"Fasen »{name}« er {state_da(stage.status)}; kun {only} kan {verb}.",
            en=f"The stage »{name}« is {state_en(stage.status)}; only {only_en} can be {verb_en}.",
        )
    return stage


def refuse_before_opened(tx: ProcessTx, stage: StageRecord, at: datetime) -> None:
    """A decision cannot be recorded as taken before its stage asked for it."""
    if stage.opened_at is not None and at < stage.opened_at:
        opened = format_short(stage.opened_at)
        name = stage_name(tx, stage.stage_id)
        raise GuardRefused(
            f"Beslutningen kan ikke registreres {format_short(at)}: "
            f"fasen »{name}« åbnede først {opened}.",
            en=f"The decision cannot be recorded at {format_short(at, 'en')}: the stage "
            f"»{name}« opened only at {format_short(stage.opened_at, 'en')}.",
        )


def refuse_approval_without_agreement(tx: ProcessTx, stage: StageRecord) -> None:
    if stage.kind == "approval" and not tx.process.approval_document_hash:
        name = stage_name(tx, stage.stage_id)
        raise GuardRefused(
            f"Fasen »{name}« kan ikke åbne, før en version af aftalen er sendt til godkendelse "
            "(upload den på processens side for aftalen, og send den til godkendelse).",
            en=f"The stage »{name}« cannot open before a version of the agreement is put up "
            "for approval (upload it on the process's agreement page and put it up).",
        )


def open_stage(tx: ProcessTx, stage_id: str, at: datetime, actor: str, **event: Any) -> None:
    """The stage opens: its tasks are made and the invitations to its events queued."""
    st = tx.stage(stage_id)
    st.status = machines.fire("stage", st.status, "open")
    st.opened_at = at
    bst = tx.bound.stage(stage_id)
    for t in new_tasks(tx, bst):
        tx.add_task(t)
    tx.event(at, actor, "stage_opened", stage=stage_id, **event)
    invite_to_events(tx, bst, at)


def complete_stage(
    tx: ProcessTx,
    st: StageRecord,
    at: datetime,
    actor: str,
    reason: str,
    data: dict[str, Any] | None = None,
) -> None:
    """The stage completes; its queued reminders are cancelled (counted in the event)."""
    st.status = machines.fire("stage", st.status, "complete")
    st.closed_at = at
    if st.stage_id in tx.bound.followed:
        tx.record_actual(st.stage_id, at, dict((st.outcome or {}).get("values") or {}))
    cancelled = tx.cancel_mails(stage=st.stage_id, kind="reminder")
    tx.event(
        at,
        actor,
        "stage_completed",
        stage=st.stage_id,
        reason=reason,
        data=dict(data or {}),
        count_of=cancelled,
        count_as="reminders_cancelled",
    )


def new_tasks(tx: ProcessTx, bst: BoundStage) -> list[TaskRecord]:
    """Every participant's task(s) of a stage that opens."""
    d = bst.definition
    parties = tx.bound.bundle.parties
    out: list[TaskRecord] = []
    for slug in tx.bound.bundle.participants:
        if isinstance(d, QuestionnaireStage):
            steps = [""]
        elif isinstance(d, ApprovalStage):
            steps = list(d.chains.get(parties.get(slug).kind, []))
        else:
            steps = []
        for i, step in enumerate(steps):
            out.append(
                TaskRecord(
                    process_id=tx.process.id,
                    stage_id=d.id,
                    party=slug,
                    step=step,
                    seq=i,
                    kind="questionnaire" if isinstance(d, QuestionnaireStage) else "approval",
                    status="pending",
                    reminders_done=0,
                    escalated=False,
                    link_generation=1,
                )
            )
    return out


def invite_to_events(tx: ProcessTx, bst: BoundStage, at: datetime) -> None:
    """Calendar invitations to a stage's meetings or workshops, for the roles it invites."""
    roles = list(getattr(bst.definition, "invite", []) or [])
    if not roles or not bst.events:
        return
    events = events_to_invite_to(tx, bst, at)
    for party_slug in tx.bound.bundle.participants:
        recipients = tuple(c for r in roles for c in tx.addresses(party_slug, r))
        if not recipients:
            continue
        for i, ev in events:
            event = {
                "id": ev.id,
                "title": ev.title,
                "start": ev.start.isoformat(),
                "end": ev.end.isoformat(),
                "location": ev.location,
                "sequence": ev.sequence,
                "method": "REQUEST",
                "index": i,
            }
            signup = signup_details(tx, bst.id, party_slug, ev.id, at)
            tx.mail(
                Mail(
                    kind="meeting_invitation",
                    stage=bst.id,
                    party=party_slug,
                    step=ev.id,
                    recipients=recipients,
                    details={"event": event, **signup},
                ),
                at,
            )


def events_to_invite_to(
    tx: ProcessTx, bst: BoundStage, at: datetime
) -> list[tuple[int, BoundEvent]]:
    """A stage's meetings that have not ended (with their index); a meeting already over when
    the stage opens (a scheduler catching up after downtime) gets no invitation: it is
    recorded as skipped instead."""
    over = [ev.id for ev in bst.events if ev.end <= at]
    if over:
        tx.event(
            at,
            "system",
            "meeting_invitations_skipped",
            stage=bst.id,
            reason="mødet er allerede holdt",
            data={"events": over},
        )
    return [(i, ev) for i, ev in enumerate(bst.events) if ev.end > at]


def document_info(tx: ProcessTx) -> dict[str, Any]:
    """The version put up for approval (what approval mails name and the submission
    attaches), or ``{}`` before one is put up."""
    wanted = tx.process.approval_document_hash
    if not wanted:
        return {}
    return dict(tx.document_up(wanted))


def next_seq(tx: ProcessTx, kind: str, t: TaskRecord, at_least: int) -> int:
    """The sequence number of a task's next mail of ``kind``: ``at_least`` (the planner's
    count), or past every one it already has, so a deadline moved back (reminders and
    escalations planned again from the new date) never reuses a mail's idempotency key."""
    last, _ = tx.queued(kind, t)
    return at_least if last is None else max(at_least, last + 1)


def issue_link(tx: ProcessTx, t: TaskRecord, at: datetime) -> dict[str, Any]:
    """The task's personal link of its current generation (stored as a hash only); the
    mail's ``link`` context."""
    token = make_token(tx.link_secret, t)
    tx.link(t, token_hash(token), at)
    return {"generation": t.link_generation}


def first_mail_kind(t: TaskRecord) -> str:
    """The mail that asks a task's party first (reminders thread under it)."""
    return "approval_request" if t.kind == "approval" else "invitation"


def recipient_role(definition: object, step: str) -> str:
    """The role a task's mails go to: an approval step's own (``step_recipients``), else the
    stage's ``recipients``; a questionnaire's committee secretary by default."""
    if isinstance(definition, ApprovalStage):
        return definition.recipient_role(step)
    return str(getattr(definition, "recipients", "committee_secretary"))


def plan_step(tx: ProcessTx, t: TaskRecord, at: datetime) -> dict[str, Any]:
    """An approval step about to be requested at ``at`` (or postponed by its body then): its
    own deadline from its body's meeting calendar (``workflow.step_plan``), and the reminders
    planned for before then counted as done. Returns what the event records; ``{}`` without a
    calendar for the body (the stage's deadline, or the step's last plan, holds)."""
    source = tx.calendar_source
    calendars = source(tx.process.definition_path, tx.bound.year) if source else None
    bst = tx.bound.stage(t.stage_id)
    definition = bst.definition
    if calendars is None or not isinstance(definition, ApprovalStage):
        return {}
    sent = next_office_moment(at, tx.bound.office_hour, tx.bound.office_end)
    planned = plan_requested_step(
        calendars.of(t.party, t.step),
        to_local(sent).date(),
        bst.deadline,
        definition.minutes_working_days,
    )
    if planned is None:
        return {}
    t.step_deadline = planned.deadline
    data = planned.event_data()
    if t.deadline_override is not None and t.deadline_override < to_local(sent).date():
        # the party's extension ran out before this step was asked: never quote a past day
        data["extension_passed"] = t.deadline_override.isoformat()
        t.deadline_override = None
    if t.deadline is not None:
        t.reminders_done = sum(1 for m in tx.bound.reminder_moments(bst, t.deadline) if m <= sent)
    return data


def ask(
    tx: ProcessTx,
    t: TaskRecord,
    at: datetime,
    *,
    seq: int = 0,
    reissued: bool = False,
    now: bool = False,
    planned: dict[str, Any] | None = None,
) -> datetime:
    """Queue the mail that asks the party (invitation or approval request) with a fresh link;
    returns when it is due (``now``: at once, else at the next office moment). ``planned``:
    the step's plan (``plan_step``), whose meeting and agenda deadline the request names."""
    bst = tx.bound.stage(t.stage_id)
    definition = bst.definition
    details: dict[str, Any] = {"deadline": iso_day(t.deadline), "link": issue_link(tx, t, at)}
    if reissued:
        details["reissued"] = True
    if isinstance(definition, QuestionnaireStage):
        details["questionnaire"] = definition.questionnaire
        details["accept_late"] = definition.accept_late
    else:
        details["body"] = t.step
        details["document"] = document_info(tx)
        if planned and planned.get("meeting"):
            details["meeting"] = planned["meeting"]
            details["agenda_deadline"] = planned["agenda_deadline"]
    role = recipient_role(definition, t.step)
    kind = first_mail_kind(t)
    mail = Mail(
        kind=kind,
        stage=t.stage_id,
        party=t.party,
        step=t.step,
        seq=seq,
        recipients=tuple(tx.addresses(t.party, role)),
        details=details,
        thread_under=kind if reissued else "",
        now=now,
    )
    tx.mail(mail, at)
    return due_at(mail, tx.bound, at)


def notify_secretariat(
    tx: ProcessTx, kind: str, t: TaskRecord, at: datetime, details: dict[str, Any]
) -> None:
    """A mail to the secretariat about a task (e.g. a rejection); numbered per task."""
    _, n = tx.queued(kind, t)
    tx.mail(
        Mail(
            kind=kind,
            stage=t.stage_id,
            party=t.party,
            step=t.step,
            seq=n,
            recipients=(tx.bound.bundle.parties.secretariat,),
            details=details,
        ),
        at,
    )
