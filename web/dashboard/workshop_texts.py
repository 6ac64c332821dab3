"""The texts of the secretariat's workshop page (``web.dashboard.workshops``), Danish and
English."""

from __future__ import annotations

from typing import Any

from web.i18n import lang

DA: dict[str, str] = {
    "ws_title": "Workshops og tilmeldinger",
    "ws_none": "Processen har ingen workshops med tilmelding.",
    "ws_when": "Tid",
    "ws_counts": "{confirmed} af {capacity} pladser besat, {waiting} på venteliste",
    "ws_minimum": "Mindst {minimum} deltagere; tilmelding senest {deadline}",
    "ws_flag": "For få tilmeldte: {confirmed} bekræftede, men mindst {minimum} er nødvendige.",
    "ws_participants": "Deltagere",
    "ws_nobody": "Ingen har tilmeldt sig endnu.",
    "ws_col_seq": "Nr.",
    "ws_col_party": "Part",
    "ws_col_name": "Navn",
    "ws_col_role": "Rolle",
    "ws_col_email": "E-mail",
    "ws_col_status": "Status",
    "ws_col_signed": "Tilmeldt",
    "ws_col_attended": "Mødt",
    "ws_status_confirmed": "Tilmeldt",
    "ws_status_waiting": "Venteliste",
    "ws_status_cancelled": "Afmeldt",
    "ws_attended_label": "{name} mødte op",
    "ws_attendance_save": "Gem fremmøde",
    "ws_attendance_saved": "Fremmødet er gemt.",
    "ws_attendance_early": "Fremmøde kan registreres, når workshoppen er begyndt.",
    "ws_export": "Hent deltagerlisten (XLSX)",
    "ws_conclusions": "Workshoppens konklusioner",
    "ws_conclusions_intro": "Konklusionerne indgår i materialet til KKR (den samlede rapport).",
    "ws_challenges": "Udfordringer",
    "ws_actions": "Handlinger",
    "ws_recommendations": "Anbefalinger",
    "ws_conclusions_save": "Gem konklusioner",
    "ws_conclusions_saved": "Konklusionerne er gemt (version {version}).",
    "ws_conclusions_version": "Version {version}, gemt af {author} {when}.",
    "ws_too_long": "Højst {max} tegn pr. felt.",
    "ws_refused": "Det kunne ikke gemmes: {reason}",
    "ws_report_title": "Workshops",
    "ws_report_numbers": "{confirmed} tilmeldt, {waiting} på venteliste",
    "ws_report_attended": "{attended} mødte op",
    "ws_report_no_conclusions": "Konklusionerne er ikke registreret endnu.",
}

EN: dict[str, str] = {
    "ws_title": "Workshops and sign-ups",
    "ws_none": "The process has no workshops that take sign-ups.",
    "ws_when": "When",
    "ws_counts": "{confirmed} of {capacity} places taken, {waiting} on the waiting list",
    "ws_minimum": "At least {minimum} participants; sign up by {deadline}",
    "ws_flag": "Too few sign-ups: {confirmed} confirmed, but at least {minimum} are needed.",
    "ws_participants": "Participants",
    "ws_nobody": "Nobody has signed up yet.",
    "ws_col_seq": "No.",
    "ws_col_party": "Party",
    "ws_col_name": "Name",
    "ws_col_role": "Role",
    "ws_col_email": "E-mail",
    "ws_col_status": "Status",
    "ws_col_signed": "Signed up",
    "ws_col_attended": "Attended",
    "ws_status_confirmed": "Signed up",
    "ws_status_waiting": "Waiting list",
    "ws_status_cancelled": "Cancelled",
    "ws_attended_label": "{name} attended",
    "ws_attendance_save": "Save attendance",
    "ws_attendance_saved": "The attendance has been saved.",
    "ws_attendance_early": "Attendance can be recorded once the workshop has begun.",
    "ws_export": "Download the participant list (XLSX)",
    "ws_conclusions": "The workshop's conclusions",
    "ws_conclusions_intro": "The conclusions go into the material for KKR (the compiled report).",
    "ws_challenges": "Challenges",
    "ws_actions": "Actions",
    "ws_recommendations": "Recommendations",
    "ws_conclusions_save": "Save conclusions",
    "ws_conclusions_saved": "The conclusions have been saved (version {version}).",
    "ws_conclusions_version": "Version {version}, saved by {author} {when}.",
    "ws_too_long": "At most {max} characters per field.",
    "ws_refused": "It could not be saved: {reason}",
    "ws_report_title": "Workshops",
    "ws_report_numbers": "{confirmed} signed up, {waiting} on the waiting list",
    "ws_report_attended": "{attended} attended",
    "ws_report_no_conclusions": "The conclusions have not been recorded yet.",
}


def wt(key: str, /, **params: Any) -> str:
    """A workshop page text in the page's language."""
    text = (EN if lang() == "en" else DA)[key]
    return text.format(**params) if params else text
