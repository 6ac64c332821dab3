"""The personal report link of a meeting's invitees (``/rapport/<token>``): which process,
meeting and party a token belongs to, or ``LinkNotFound`` with no detail (forged, revoked,
of an older generation, expired). The links are made by ``workflow.forum_report``."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.definition import MeetingStage
from workflow.forum_report import REPORT_STEP
from workflow.link_target import TOKEN_PATTERN, LinkNotFound
from workflow.links import LinkKey, make_token, token_hash
from workflow.storage.models import LinkRow, ProcessRow
from workflow.timeline import BoundProcess, bound_for


@dataclass(frozen=True)
class ReportLink:
    """What a working report link opens: the report of ``source`` for ``party``."""

    row: ProcessRow
    bound: BoundProcess
    stage_id: str
    source: str
    party: str
    party_name: str
    meeting_title: str


def resolve_report_link(s: Session, secret: str, token: str, at: datetime) -> ReportLink:
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise LinkNotFound()
    link = s.scalar(select(LinkRow).where(LinkRow.token_hash == token_hash(token)))
    if link is None or link.revoked_at is not None or link.step != REPORT_STEP:
        raise LinkNotFound()
    newest = s.scalar(
        select(func.max(LinkRow.generation)).where(
            LinkRow.process_id == link.process_id,
            LinkRow.stage_id == link.stage_id,
            LinkRow.party == link.party,
            LinkRow.step == REPORT_STEP,
        )
    )
    row = s.get(ProcessRow, link.process_id)
    if row is None or newest != link.generation or row.status == "cancelled":
        raise LinkNotFound()
    expected = make_token(
        secret, LinkKey(row.id, link.stage_id, link.party, REPORT_STEP, link.generation)
    )
    if not hmac.compare_digest(expected, token):
        raise LinkNotFound()  # a row that was re-pointed in the database
    bound = bound_for(row)
    bst = bound.stage(link.stage_id)
    d = bst.definition
    if not isinstance(d, MeetingStage) or d.send_report is None:
        raise LinkNotFound()
    expires = bound.link_expires_at(bst, None)
    if expires is not None and at > expires:
        raise LinkNotFound()
    party = bound.bundle.parties.by_slug.get(link.party)
    return ReportLink(
        row=row,
        bound=bound,
        stage_id=link.stage_id,
        source=d.send_report.source,
        party=link.party,
        party_name=party.name if party else link.party,
        meeting_title=d.meeting.title if d.meeting else d.name,
    )
