"""Danish (first) and English labels for states, stage kinds, bodies and action kinds."""

from __future__ import annotations

DA: dict[str, str] = {
    # process and stage states
    "running": "I gang",
    "blocked": "Blokeret",
    "completed": "Afsluttet",
    "cancelled": "Annulleret",
    "pending": "Afventer",
    "open": "Åben",
    # task states
    "not_invited": "Ikke inviteret",
    "invited": "Inviteret",
    "opened": "Åbnet",
    "draft": "Kladde",
    "submitted": "Indsendt",
    "overdue": "Overskredet",
    "late": "Indsendt for sent",
    "exempt": "Fritaget",
    "requested": "Anmodet",
    "approved": "Godkendt",
    "rejected": "Afvist",
    "postponed": "Udsat",
    # outcomes
    "held": "afholdt",
    # stage kinds
    "meeting": "Møde",
    "decision": "Beslutning",
    "questionnaire": "Spørgeskema",
    "workshops": "Workshops",
    "approval": "Godkendelse",
    "submission": "Fremsendelse",
    # bodies
    "socialudvalg": "Socialudvalg",
    "byraad": "Byråd",
    "regionsraad": "Regionsråd",
    # planner actions and events
    "open_stage": "Fase åbnet",
    "complete_stage": "Fase afsluttet",
    "invite": "Invitation sendt",
    "remind": "Påmindelse sendt",
    "skip_reminder": "Påmindelse sprunget over",
    "mark_overdue": "Frist overskredet",
    "escalate": "Eskaleret til direktør",
    "request_approval": "Anmodning om godkendelse sendt",
    "submit_agreement": "Aftalen fremsendt",
    "complete_process": "Processen afsluttet",
    "outcome_recorded": "Resultat registreret",
    "answer_submitted": "Svar indsendt",
    "approval_approved": "Godkendelse registreret",
    "approval_rejected": "Afvisning registreret",
    "approval_postponed": "Udsættelse registreret",
    "document_put_up_for_approval": "Aftalen sendt til godkendelse",
    "agreement_already_up": "Aftalen er allerede sendt til godkendelse",
    "meeting_invitations_skipped": "Mødeindkaldelser sprunget over (mødet er holdt)",
    # mail kinds
    "invitation": "Invitation",
    "reminder": "Påmindelse",
    "escalation": "Eskalering",
    "receipt": "Kvittering",
    "approval_request": "Anmodning om godkendelse",
    "meeting_invitation": "Mødeindkaldelse",
    "rejection": "Afvisning",
    "digest": "Statusoversigt",
}

EN: dict[str, str] = {
    "not_invited": "Not invited",
    "late": "Submitted late",
    "open_stage": "Stage opened",
    "complete_stage": "Stage completed",
    "invite": "Invitation sent",
    "remind": "Reminder sent",
    "skip_reminder": "Reminder skipped",
    "mark_overdue": "Deadline passed",
    "escalate": "Escalated to director",
    "request_approval": "Approval requested",
    "submit_agreement": "Agreement submitted",
    "complete_process": "Process completed",
    "document_put_up_for_approval": "Agreement put up for approval",
    "agreement_already_up": "The agreement is already up for approval",
    "meeting_invitations_skipped": "Meeting invitations skipped (the meeting is over)",
    "byraad": "Municipal council",
    "regionsraad": "Regional council",
    "socialudvalg": "Social committee",
}


def label(key: str, lang: str = "da") -> str:
    if lang == "en":
        return EN.get(key, key.replace("_", " ").capitalize())
    return DA.get(key, key)
