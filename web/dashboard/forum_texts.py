"""The texts of the report's way to the meetings and of the agreement's path, Danish first
and English second. ``web.dashboard.texts`` merges them into its tables, so ``dt`` finds
them."""

from __future__ import annotations

DA: dict[str, str] = {
    "forum_report_for": "Sendt til {party} forud for »{meeting}«.",
    "forum_send_title": "Rapporten til mødet",
    "forum_sent_at": "sendt til deltagerne {at}",
    "forum_planned_at": "sendes automatisk til deltagerne {at}",
    "act_send_report": "Send rapporten nu",
    "send_report_intro": (
        "Rapporten sendes nu til mødets deltagere i hver part med et personligt link til "
        "rapporten (uden login). Den planlagte udsendelse sendes ikke igen bagefter."
    ),
    "done_report_sent": "Rapporten er sat i kø til {n} parter før »{meeting}«.",
    "act_revoke_report": "Tilbagekald rapportlinks",
    "revoke_report_intro": (
        "Alle personlige links til rapporten for dette møde holder op med at virke. Sender I "
        "rapporten igen, får deltagerne nye links."
    ),
    "revoke_report_warning": "Links, der allerede er sendt, giver derefter »siden findes ikke«.",
    "done_report_revoked": "Rapportlinks til »{meeting}« er tilbagekaldt.",
}

EN: dict[str, str] = {
    "forum_report_for": 'Sent to {party} ahead of "{meeting}".',
    "forum_send_title": "The report to the meeting",
    "forum_sent_at": "sent to the invitees {at}",
    "forum_planned_at": "sent to the invitees automatically {at}",
    "act_send_report": "Send the report now",
    "send_report_intro": (
        "The report is sent now to the meeting's invitees of every party with a personal link "
        "to the report (no login). The planned sending will not send it again afterwards."
    ),
    "done_report_sent": 'The report is queued for {n} parties ahead of "{meeting}".',
    "act_revoke_report": "Revoke the report links",
    "revoke_report_intro": (
        "Every personal link to the report for this meeting stops working. If you send the "
        "report again, the invitees get new links."
    ),
    "revoke_report_warning": 'Links already sent then show "page not found".',
    "done_report_revoked": 'The report links for "{meeting}" are revoked.',
}
