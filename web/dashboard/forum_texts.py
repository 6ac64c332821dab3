"""The texts of the report's way to the meetings and of the agreement's path, Danish first
and English second. ``web.dashboard.texts`` merges them into its tables, so ``dt`` finds
them."""

from __future__ import annotations

DA: dict[str, str] = {
    "forum_report_for": "Sendt til {party} forud for »{meeting}«.",
    "forum_send_title": "Rapporten til mødet",
    "forum_sent_at": "sendt til deltagerne {at}",
    "forum_skipped_at": "ikke sendt: mødet var allerede holdt, da udsendelsen kom frem i planen ({at})",
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
    "f_document_version": "Anbefalet version af aftalen",
    "hint_document_version": (
        "Den version af aftalen, beslutningen anbefaler (gemmes kun med resultatet "
        "»godkendt«). Som standard den nyeste."
    ),
    "version_option": "Version {n} ({filename})",
    "put_up_not_recommended": "Bemærk: {stage} anbefalede version {recommended}, ikke version {n}.",
    "recommended_is": "KKR anbefalede version {n}.",
    "act_put_up_recommended": "Send version {n} til godkendelse",
    "recommended_badge": "Anbefalet",
    "path_title": "Aftalens vej",
    "path_draft": "Udkast",
    "path_drafts": "{count} version(er).",
    "path_newest": "Nyeste:",
    "path_recommendation": "Anbefaling",
    "path_recommended": "Anbefalede",
    "path_recommended_no_version": "Anbefalet uden en registreret version",
    "path_not_yet": "Ikke endnu",
    "path_councils": "Byråd og regionsråd",
    "path_up": "Sendt til godkendelse:",
    "path_differs": "Ikke den anbefalede version.",
    "path_submission": "Socialstyrelsen",
    "path_submitted": "Fremsendt",
}

EN: dict[str, str] = {
    "forum_report_for": 'Sent to {party} ahead of "{meeting}".',
    "forum_send_title": "The report to the meeting",
    "forum_sent_at": "sent to the invitees {at}",
    "forum_skipped_at": "not sent: the meeting had already been held when the sending came due ({at})",
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
    "f_document_version": "Recommended version of the agreement",
    "hint_document_version": (
        "The version of the agreement the decision recommends (recorded only with the "
        'outcome "approved"). The newest by default.'
    ),
    "version_option": "Version {n} ({filename})",
    "put_up_not_recommended": "Note: {stage} recommended version {recommended}, not version {n}.",
    "recommended_is": "KKR recommended version {n}.",
    "act_put_up_recommended": "Put version {n} up for approval",
    "recommended_badge": "Recommended",
    "path_title": "The agreement's path",
    "path_draft": "Draft",
    "path_drafts": "{count} version(s).",
    "path_newest": "Newest:",
    "path_recommendation": "Recommendation",
    "path_recommended": "Recommended",
    "path_recommended_no_version": "Recommended without a recorded version",
    "path_not_yet": "Not yet",
    "path_councils": "Councils",
    "path_up": "Up for approval:",
    "path_differs": "Not the recommended version.",
    "path_submission": "Socialstyrelsen",
    "path_submitted": "Submitted",
}
