"""The compiled report sent to a meeting's invitees (a meeting stage's ``send_report``): the
planned send N working days before the meeting (``workflow.planner``, ``SEND_REPORT``), the
secretariat's send by hand, and revoking the personal report links. Functions of a
``ProcessTx``.

Each party gets one mail to its invitees (the stage's ``invite`` roles) with a personal link
to the read-only report page (``/rapport/<token>``, with the PDF). The link is a personal link
like an answer link (``workflow.links.make_token``) of (stage, party, ``REPORT_STEP``) and a
generation kept by the link rows themselves (no task holds it): revoking sets ``revoked_at``,
and the next send issues the next generation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from workflow.definition import MeetingStage, SendReport
from workflow.errors import GuardRefused, NotFound
from workflow.links import LinkKey, make_token, token_hash
from workflow.mail import Mail
from workflow.storage.models import LinkRow, OutboxRow
from workflow.timeline import BoundProcess, BoundStage
from workflow.tx import ProcessTx

#: The step of a report link and of a report mail (a task's step is a body or '').
REPORT_STEP = "rapport"
#: The mail kind (``notifications/templates/<lang>/forum_report.*``).
MAIL_KIND = "forum_report"


def report_setting(bst: BoundStage) -> SendReport:
    d = bst.definition
    if not isinstance(d, MeetingStage) or d.send_report is None:
        name = d.name
        raise GuardRefused(
            f"Fasen »{name}« sender ingen rapport: giv mødefasen en send_report "
            "(source: spørgeskemafasen) i procesdefinitionen.",
            en=f"The stage »{name}« sends no report: give the meeting stage a send_report "
            "(source: the questionnaire stage) in the definition.",
        )
    return d.send_report


def send_report(
    tx: ProcessTx,
    stage_id: str,
    at: datetime,
    actor: str,
    *,
    manual: bool,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> int:
    """Queue the report mail to every party's invitees of ``stage_id``; returns how many. The
    planned send is sent once (``report_sent_at``); one by hand is numbered after the others."""
    stage = tx.stage(stage_id)
    bst = tx.bound.stage(stage_id)
    setting = report_setting(bst)
    if manual and tx.process.status == "cancelled":
        key = tx.process.key
        raise GuardRefused(
            f"Processen {key} er annulleret; intet sendes.",
            en=f"The process {key} is cancelled; nothing is sent.",
        )
    if stage.report_sent_at is None:
        stage.report_sent_at = at
    event_data = {**(data or {}), "source": setting.source, "manual": manual}
    if not manual and bst.events and bst.events[0].start <= at:
        tx.event(
            at,
            actor,
            "report_skipped",
            stage=stage_id,
            reason="mødet er allerede holdt",
            data=event_data,
        )
        return 0
    seq = _next_seq(tx, stage_id) if manual else 0
    generations = _generations(tx, stage_id)
    sent = [
        party
        for party in tx.bound.bundle.participants
        if _mail_one(tx, bst, party, seq, generations.get(party, 1), at)
    ]
    tx.event(
        at,
        actor,
        "report_sent",
        stage=stage_id,
        reason=reason,
        data={**event_data, "mails": len(sent), "parties": sent},
    )
    return len(sent)


def _mail_one(
    tx: ProcessTx, bst: BoundStage, party_slug: str, seq: int, generation: int, at: datetime
) -> bool:
    roles = list(getattr(bst.definition, "invite", []) or [])
    recipients = tuple(c for r in roles for c in tx.addresses(party_slug, r))
    if not recipients:
        return False
    token = make_token(
        tx.link_secret, LinkKey(tx.process.id, bst.id, party_slug, REPORT_STEP, generation)
    )
    tx.link_to(bst.id, party_slug, REPORT_STEP, generation, token_hash(token), at)
    setting = report_setting(bst)
    source = tx.bound.stage(setting.source)
    ev = bst.events[0] if bst.events else None
    details: dict[str, Any] = {
        "link": {"generation": generation, "page": REPORT_STEP},
        "source": setting.source,
        "source_name": source.definition.name,
        "event": (
            {
                "title": ev.title,
                "start": ev.start.isoformat(),
                "end": ev.end.isoformat(),
                "location": ev.location,
            }
            if ev
            else {}
        ),
    }
    tx.mail(
        Mail(
            kind=MAIL_KIND,
            stage=bst.id,
            party=party_slug,
            step=REPORT_STEP,
            seq=seq,
            recipients=recipients,
            details=details,
        ),
        at,
    )
    return True


def _generations(tx: ProcessTx, stage_id: str) -> dict[str, int]:
    """Each party's report link (one read for all): the current generation while it is not
    revoked, else the next; a party without a link is not in the map (its link is the first)."""
    newest: dict[str, tuple[int, bool]] = {}
    for party, generation, revoked_at in tx.session.execute(
        select(LinkRow.party, LinkRow.generation, LinkRow.revoked_at).where(
            LinkRow.process_id == tx.process.id,
            LinkRow.stage_id == stage_id,
            LinkRow.step == REPORT_STEP,
        )
    ):
        if party not in newest or generation > newest[party][0]:
            newest[party] = (generation, revoked_at is not None)
    return {p: g + 1 if revoked else g for p, (g, revoked) in newest.items()}


def _next_seq(tx: ProcessTx, stage_id: str) -> int:
    last = tx.session.scalar(
        select(func.max(OutboxRow.seq)).where(
            OutboxRow.process_id == tx.process.id,
            OutboxRow.kind == MAIL_KIND,
            OutboxRow.stage_id == stage_id,
        )
    )
    return 1 if last is None else last + 1


def revoke_report_links(
    tx: ProcessTx, stage_id: str, party: str | None, at: datetime, actor: str, reason: str
) -> None:
    """Stop the report links of ``party`` (every party's if None): they answer 404 from now
    on; the next send issues new ones."""
    report_setting(tx.bound.stage(stage_id))
    if party is not None and party not in tx.bound.bundle.parties.by_slug:
        raise NotFound(f"Parten {party!r} findes ikke.", en=f"There is no party {party!r}.")
    where = [
        LinkRow.process_id == tx.process.id,
        LinkRow.stage_id == stage_id,
        LinkRow.step == REPORT_STEP,
        LinkRow.revoked_at.is_(None),
    ]
    if party is not None:
        where.append(LinkRow.party == party)
    tx.write(update(LinkRow).where(*where).values(revoked_at=at))
    tx.event(at, actor, "report_links_revoked", stage=stage_id, party=party or "", reason=reason)


def meetings_sending(bound: BoundProcess, source: str) -> list[BoundStage]:
    """The meeting stages that mail the report of the questionnaire stage ``source``."""
    return [
        st
        for st in bound.stages
        if isinstance(st.definition, MeetingStage)
        and st.definition.send_report is not None
        and st.definition.send_report.source == source
    ]
