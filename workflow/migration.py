"""Moving a running process to a new version of its definition: what changes, and whether
it may (pure; the live state comes in as ``Progress``).

The rules (each refusal in Danish, with an English twin): history is never rewritten — a
completed stage cannot be removed or re-dated, a sent invitation is not unsent (a stage
with invitations out cannot be removed, nor its sending moved, nor an invited party
removed). A question may be added, reworded or removed until the questionnaire is sent;
after that the changed questionnaire goes out as a new version (its ``version`` raised if
the file did not raise it) and every answer keeps the version it answered.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflow.calendar import to_local
from workflow.dates import format_date, format_datetime
from workflow.definition_questions import Questionnaire
from workflow.loader import Bundle
from workflow.timeline import BoundProcess, BoundStage, bind


@dataclass(frozen=True)
class Change:
    """One difference between the versions: ``area`` stage | date | question | party."""

    area: str
    what: str  # added | removed | changed
    ident: str
    da: str
    en: str


@dataclass(frozen=True)
class Refusal:
    da: str
    en: str


@dataclass
class Progress:
    """What has happened in the live process: each stage's status, and per stage the parties
    invited (an invitation or request sent) and those that submitted an answer."""

    stages: dict[str, str] = field(default_factory=dict)
    invited: dict[str, set[str]] = field(default_factory=dict)
    submitted: dict[str, set[str]] = field(default_factory=dict)
    #: The process's own status: only a running (or blocked) process moves.
    status: str = "running"

    def sent(self, stage_id: str) -> bool:
        return bool(self.invited.get(stage_id))


@dataclass
class Plan:
    old: Bundle
    new: Bundle
    changes: list[Change]
    refusals: list[Refusal]
    #: questionnaire id → (version before, version after), for one changed after it was sent
    bumped: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return not self.refusals

    def summary(self) -> dict[str, Any]:
        """What the audit event records of it."""
        return {
            "old_hash": self.old.hash,
            "new_hash": self.new.hash,
            "old_version": self.old.process.version,
            "new_version": self.new.process.version,
            "changes": [f"{c.area} {c.what}: {c.ident}" for c in self.changes],
            "questionnaire_versions": {k: list(v) for k, v in self.bumped.items()},
        }


def plan_migration(old: Bundle, new: Bundle, year: int, progress: Progress) -> Plan:
    """The differences from ``old`` to ``new`` bound to ``year``, and the refusals."""
    new, bumped = _bump_questionnaires(old, new, progress)
    ob, nb = bind(old, year), bind(new, year)
    plan = Plan(old, new, [], [], bumped)
    if progress.status in ("completed", "cancelled"):
        plan.refusals.append(
            Refusal(
                f"processen er {'afsluttet' if progress.status == 'completed' else 'annulleret'}"
                "; historien skrives ikke om",
                f"the process is {progress.status}; history is never rewritten",
            )
        )
    _stages(plan, ob, nb, progress)
    _questions(plan, progress)
    _parties(plan, progress)
    return plan


# --------------------------------------------------------------------------- stages


def _stages(plan: Plan, ob: BoundProcess, nb: BoundProcess, progress: Progress) -> None:
    old_ids = [s.id for s in ob.stages]
    new_ids = [s.id for s in nb.stages]
    for st in nb.stages:
        if st.id not in old_ids:
            plan.changes.append(
                Change(
                    "stage",
                    "added",
                    st.id,
                    f"Ny fase: {st.definition.name} ({st.id}), åbner {_day(st.opens_at)}",
                    f"New stage: {st.definition.name} ({st.id}), opens {_day(st.opens_at, 'en')}",
                )
            )
    for st in ob.stages:
        status = progress.stages.get(st.id, "pending")
        if st.id not in new_ids:
            plan.changes.append(
                Change(
                    "stage",
                    "removed",
                    st.id,
                    f"Fasen {st.definition.name} ({st.id}) fjernes",
                    f"The stage {st.definition.name} ({st.id}) is removed",
                )
            )
            if status == "completed":
                plan.refusals.append(_history(st.id, "fjernes", "removed"))
            elif progress.sent(st.id) or status != "pending":
                plan.refusals.append(
                    Refusal(
                        f"fasen {st.id!r} er i gang, og dens invitationer er sendt; en sendt "
                        "invitation kan ikke trækkes tilbage, så fasen kan ikke fjernes",
                        f"the stage {st.id!r} has begun and its invitations are sent; a sent "
                        "invitation is not unsent, so the stage cannot be removed",
                    )
                )
            continue
        _dates(plan, st, nb.stage(st.id), status, progress)


def _history(stage_id: str, da: str, en: str) -> Refusal:
    return Refusal(
        f"fasen {stage_id!r} er afsluttet; historien skrives ikke om, så en afsluttet fase kan "
        f"ikke {da}",
        f"the stage {stage_id!r} is completed; history is never rewritten, so a completed stage "
        f"cannot be {en}",
    )


def _moments(st: BoundStage) -> dict[str, tuple[str, str, datetime | date | None]]:
    out: dict[str, tuple[str, str, datetime | date | None]] = {
        "opens": ("åbner", "opens", st.opens_at),
        "send": ("udsendes", "is sent", st.send_at),
        "deadline": ("frist", "deadline", st.deadline),
        "closes": ("lukker", "closes", st.closes_at),
    }
    for ev in st.events:
        out[f"event:{ev.id}"] = (ev.title, ev.title, ev.start)
    return out


def _dates(plan: Plan, old: BoundStage, new: BoundStage, status: str, progress: Progress) -> None:
    before, after = _moments(old), _moments(new)
    moved = []
    for name, (da, en, was) in before.items():
        now = after.get(name, (da, en, None))[2]
        if was != now:
            moved.append(name)
            plan.changes.append(
                Change(
                    "date",
                    "changed",
                    f"{old.id}.{name}",
                    f"{old.definition.name}: {da} {_show(was)} → {_show(now)}",
                    f"{old.definition.name}: {en} {_show(was, 'en')} → {_show(now, 'en')}",
                )
            )
    if old.kind != new.kind:
        moved.append("kind")
        plan.changes.append(
            Change(
                "stage",
                "changed",
                old.id,
                f"{old.definition.name}: type {old.kind} → {new.kind}",
                f"{old.definition.name}: kind {old.kind} → {new.kind}",
            )
        )
    if not moved:
        return
    if status == "completed":
        plan.refusals.append(_history(old.id, "dateres om", "re-dated"))
    elif "kind" in moved and status != "pending":
        plan.refusals.append(
            Refusal(
                f"fasen {old.id!r} er i gang; dens type kan ikke ændres",
                f"the stage {old.id!r} has begun; its kind cannot change",
            )
        )
    elif status != "pending" and "opens" in moved:
        plan.refusals.append(
            Refusal(
                f"fasen {old.id!r} er åbnet; den kan ikke åbne på en anden dag",
                f"the stage {old.id!r} has opened; it cannot open on another day",
            )
        )
    elif progress.sent(old.id) and "send" in moved:
        plan.refusals.append(
            Refusal(
                f"invitationerne i fasen {old.id!r} er sendt; en sendt invitation kan ikke "
                "flyttes eller trækkes tilbage",
                f"the invitations of the stage {old.id!r} are sent; a sent invitation is not "
                "moved or unsent",
            )
        )


def _day(at: datetime, lang: str = "da") -> str:
    return format_date(to_local(at).date(), lang)


def _show(value: datetime | date | None, lang: str = "da") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, lang)
    return format_date(value, lang)


# --------------------------------------------------------------------------- questions


def _questionnaires(b: Bundle) -> dict[str, Questionnaire]:
    """Stage id → the questionnaire it asks."""
    out = {}
    for st in b.process.stages:
        ident = getattr(st, "questionnaire", None)
        if ident and ident in b.questionnaires:
            out[st.id] = b.questionnaires[ident]
    return out


def _question_text(q: Any) -> str:
    return json.dumps(q.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


def _questions(plan: Plan, progress: Progress) -> None:
    old_q, new_q = _questionnaires(plan.old), _questionnaires(plan.new)
    for stage_id, nq in new_q.items():
        oq = old_q.get(stage_id)
        if oq is None:
            continue
        before = {q.id: q for q in oq.questions}
        after = {q.id: q for q in nq.questions}
        for qid, q in after.items():
            if qid not in before:
                plan.changes.append(
                    Change(
                        "question",
                        "added",
                        f"{stage_id}.{qid}",
                        f"Nyt spørgsmål i {nq.id}: {q.label}",
                        f"New question in {nq.id}: {q.label}",
                    )
                )
            elif _question_text(q) != _question_text(before[qid]):
                plan.changes.append(
                    Change(
                        "question",
                        "changed",
                        f"{stage_id}.{qid}",
                        f"Spørgsmål omformuleret i {nq.id}: {before[qid].label} → {q.label}",
                        f"Question reworded in {nq.id}: {before[qid].label} → {q.label}",
                    )
                )
        for qid, q in before.items():
            if qid not in after:
                plan.changes.append(
                    Change(
                        "question",
                        "removed",
                        f"{stage_id}.{qid}",
                        f"Spørgsmål fjernet fra {nq.id}: {q.label}",
                        f"Question removed from {nq.id}: {q.label}",
                    )
                )
        if nq.id in plan.bumped:
            was, now = plan.bumped[nq.id]
            plan.changes.append(
                Change(
                    "question",
                    "changed",
                    f"{stage_id}.version",
                    f"Spørgeskemaet {nq.id} er sendt: det ændrede går ud som version {now} til "
                    f"de parter, der ikke har indsendt; indsendte svar beholder version {was}",
                    f"The questionnaire {nq.id} is sent: the changed one goes out as version "
                    f"{now} to the parties that have not submitted; submitted answers keep "
                    f"version {was}",
                )
            )


def _content(q: Questionnaire) -> str:
    data = q.model_dump(mode="json")
    data.pop("version", None)
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _bump_questionnaires(
    old: Bundle, new: Bundle, progress: Progress
) -> tuple[Bundle, dict[str, tuple[int, int]]]:
    """A questionnaire changed after it was sent goes out as a new version: its ``version``
    raised above the old one (unless the file raised it)."""
    old_q, new_q = _questionnaires(old), _questionnaires(new)
    bumped: dict[str, tuple[int, int]] = {}
    src = deepcopy(new.source)
    for stage_id, nq in new_q.items():
        oq = old_q.get(stage_id)
        if oq is None or not progress.sent(stage_id) or _content(oq) == _content(nq):
            continue
        version = max(nq.version, oq.version + 1)
        bumped[nq.id] = (oq.version, version)
        src["questionnaires"][nq.id]["version"] = version
    if not bumped:
        return new, {}
    return Bundle.from_snapshot(json.dumps(src, default=str), path=new.path), bumped


# --------------------------------------------------------------------------- parties


def _parties(plan: Plan, progress: Progress) -> None:
    before, after = plan.old.participants, plan.new.participants
    names = {p.slug: p.name for p in [*plan.old.parties.parties, *plan.new.parties.parties]}
    for slug in after:
        if slug not in before:
            plan.changes.append(
                Change(
                    "party",
                    "added",
                    slug,
                    f"Ny part: {names.get(slug, slug)}",
                    f"New party: {names.get(slug, slug)}",
                )
            )
    invited = {p for parties in progress.invited.values() for p in parties}
    for slug in before:
        if slug in after:
            continue
        plan.changes.append(
            Change(
                "party",
                "removed",
                slug,
                f"Parten {names.get(slug, slug)} fjernes",
                f"The party {names.get(slug, slug)} is removed",
            )
        )
        if slug in invited:
            plan.refusals.append(
                Refusal(
                    f"parten {slug!r} er inviteret; en sendt invitation kan ikke trækkes "
                    "tilbage, så parten kan ikke fjernes",
                    f"the party {slug!r} is invited; a sent invitation is not unsent, so the "
                    "party cannot be removed",
                )
            )
