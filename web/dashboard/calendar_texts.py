"""The texts of the meeting-calendar page (``calendar_edit``), Danish first and English
second. ``web.dashboard.texts`` merges them into its tables, so ``dt`` finds them."""

from __future__ import annotations

DA: dict[str, str] = {
    "cal_edit_title": "Mødekalender {year}",
    "cal_edit_link": "Se og ret mødekalenderen",
    "cal_edit_intro": (
        "Et organs møder og dagsordensfrist i årets kalenderfil. Ændringer skrives i filen "
        "(definitions/calendars/), som kommandolinjen og »aftaleflow check« også læser, og "
        "står i loggen med begrundelse."
    ),
    "cal_choose": "Vælg organ",
    "cal_show": "Vis",
    "cal_time": "Tidspunkt",
    "cal_no_meetings": "Organet har ingen møder i kalenderen.",
    "cal_body_kkr": "KKR Nordjylland",
    "cal_body_das-social": "DAS Social",
    "cal_days_body": "Dagsordensfristen er {n} dage før mødet (sat for dette organ).",
    "cal_days_file": "Dagsordensfristen er {n} dage før mødet (filens frist for {body}).",
    "cal_days_default": "Dagsordensfristen er {n} dage før mødet (filens standard).",
    "cal_add": "Tilføj et møde",
    "cal_add_submit": "Tilføj mødet",
    "cal_move": "Flyt et møde",
    "cal_move_submit": "Flyt mødet",
    "cal_delete": "Slet et møde",
    "cal_delete_submit": "Slet mødet",
    "cal_days": "Dagsordensfrist",
    "cal_days_submit": "Gem dagsordensfristen",
    "cal_import": "Indlæs en .ics-fil",
    "cal_import_intro": (
        "Organets møder erstattes af kalenderfilens møder i {year}; gentagne møder og "
        "undtagelser foldes ud, og tiderne bliver dansk tid."
    ),
    "cal_import_submit": "Indlæs kalenderen",
    "cal_no_file": "Vælg en .ics-fil at indlæse.",
    "cal_file_too_big": "{name} er større end 5 MB; det er ikke en mødeplan.",
    "f_cal_day": "Mødets dato",
    "f_cal_time": "Tidspunkt",
    "f_cal_meeting": "Mødet",
    "f_cal_to": "Ny dato",
    "f_cal_days": "Dage før mødet",
    "f_cal_file": "Kalenderfil (.ics)",
    "hint_cal_time": "TT:MM, fx 17:00. Tomt: organets faste tidspunkt.",
    "hint_cal_days": (
        "0–60 dage; en frist på en weekend eller helligdag flyttes tilbage til en arbejdsdag. "
        "Tomt: filens frist for organet."
    ),
    "err_time": "Skriv et klokkeslæt som TT:MM, fx 17:00",
    "err_agenda_days": "Skriv et helt antal dage fra 0 til 60",
    "done_cal_add": "Mødet {day} er tilføjet for {body}.",
    "done_cal_move": "Mødet {day} er flyttet til {to} for {body}.",
    "done_cal_delete": "Mødet {day} er slettet for {body}.",
    "done_cal_days": "Dagsordensfristen for {body} er gemt.",
    "done_cal_import": "{n} møde(r) er indlæst for {body}; de tidligere er erstattet.",
}

EN: dict[str, str] = {
    "cal_edit_title": "Meeting calendar {year}",
    "cal_edit_link": "See and change the meeting calendar",
    "cal_edit_intro": (
        "A body's meetings and agenda deadline in the year's calendar file. Changes are written "
        'to the file (definitions/calendars/), which the command line and "aftaleflow check" '
        "read too, and are logged with their reason."
    ),
    "cal_choose": "Choose a body",
    "cal_show": "Show",
    "cal_time": "Time",
    "cal_no_meetings": "The body has no meetings in the calendar.",
    "cal_body_kkr": "KKR Nordjylland",
    "cal_body_das-social": "DAS Social",
    "cal_days_body": "The agenda closes {n} days before the meeting (set for this body).",
    "cal_days_file": "The agenda closes {n} days before the meeting (the file's deadline for {body}).",
    "cal_days_default": "The agenda closes {n} days before the meeting (the file's default).",
    "cal_add": "Add a meeting",
    "cal_add_submit": "Add the meeting",
    "cal_move": "Move a meeting",
    "cal_move_submit": "Move the meeting",
    "cal_delete": "Delete a meeting",
    "cal_delete_submit": "Delete the meeting",
    "cal_days": "Agenda deadline",
    "cal_days_submit": "Save the agenda deadline",
    "cal_import": "Import an .ics file",
    "cal_import_intro": (
        "The body's meetings are replaced by the calendar file's meetings in {year}; recurring "
        "meetings and exceptions are expanded, and the times become Danish time."
    ),
    "cal_import_submit": "Import the calendar",
    "cal_no_file": "Choose an .ics file to import.",
    "cal_file_too_big": "{name} is larger than 5 MB; that is not a meeting plan.",
    "f_cal_day": "Date of the meeting",
    "f_cal_time": "Time",
    "f_cal_meeting": "The meeting",
    "f_cal_to": "New date",
    "f_cal_days": "Days before the meeting",
    "f_cal_file": "Calendar file (.ics)",
    "hint_cal_time": "HH:MM, e.g. 17:00. Empty: the body's usual time.",
    "hint_cal_days": (
        "0–60 days; a deadline on a weekend or a holiday moves back to a working day. "
        "Empty: the file's deadline for the body."
    ),
    "err_time": "Enter a time as HH:MM, e.g. 17:00",
    "err_agenda_days": "Enter a whole number of days from 0 to 60",
    "done_cal_add": "The meeting on {day} is added for {body}.",
    "done_cal_move": "The meeting on {day} is moved to {to} for {body}.",
    "done_cal_delete": "The meeting on {day} is deleted for {body}.",
    "done_cal_days": "The agenda deadline for {body} is saved.",
    "done_cal_import": "{n} meeting(s) imported for {body}; the earlier ones are replaced.",
}
