"""The texts of the workshop sign-up page (``web.signup``), Danish first and English second."""

from __future__ import annotations

from typing import Any

from web.i18n import lang

DA: dict[str, str] = {
    "signup_title": "Tilmelding til workshop",
    "signup_when": "Tid",
    "signup_where": "Sted",
    "signup_capacity": "Pladser",
    "signup_capacity_value": "{capacity} i alt, {free} ledige",
    "signup_deadline": "Tilmelding senest",
    "signup_intro": (
        "Tilmeld jeres deltagere med navn, rolle og e-mail. Pladserne fordeles efter "
        "tilmeldingstidspunkt på tværs af kommunerne og regionen; er workshoppen fuld, kommer "
        "deltageren på venteliste og rykker op, hvis en plads bliver ledig. Hver deltager får "
        "en mail: en bekræftelse med kalenderfilen eller besked om ventelisten."
    ),
    "signup_yours": "Jeres tilmeldte deltagere",
    "signup_none": "I har ikke tilmeldt nogen endnu.",
    "signup_new": "Tilmeld deltagere",
    "signup_rows_hint": "Udfyld en række pr. deltager. Tomme rækker springes over.",
    "signup_person": "Deltager {n}",
    "signup_name": "Navn",
    "signup_role": "Rolle",
    "signup_role_hint": "F.eks. udvalgsformand, leder eller konsulent (valgfrit).",
    "signup_email": "E-mail",
    "signup_status": "Status",
    "signup_confirmed": "Tilmeldt",
    "signup_waiting": "Venteliste (nr. {n})",
    "signup_cancel": "Afmeld {name}",
    "signup_submit": "Tilmeld",
    "signup_add_row": "Tilføj en række mere",
    "signup_done": "{confirmed} tilmeldt, {waiting} på venteliste. Alle får en mail.",
    "signup_done_full": (
        "Workshoppen er fuld: {waiting} deltager(e) står på ventelisten og får besked, hvis der "
        "bliver en plads."
    ),
    "signup_cancelled": "{name} er afmeldt.",
    "signup_moved_up": "Den første på ventelisten har fået pladsen og får besked.",
    "signup_closed": "Tilmeldingen lukkede {deadline}. Skriv til sekretariatet, hvis I har spørgsmål.",
    "signup_cancel_closed": "Workshoppen er begyndt; afmeldinger kan ikke længere registreres her.",
    "signup_stage_closed": "Tilmeldingen er ikke åben.",
    "err_name_missing": "Skriv deltagerens navn",
    "err_name_too_long": "Navnet må højst være 200 tegn",
    "err_role_too_long": "Rollen må højst være 200 tegn",
    "err_email_missing": "Skriv deltagerens e-mailadresse",
    "err_email_invalid": "Skriv en gyldig e-mailadresse (navn@domæne)",
    "err_email_twice": "Denne e-mailadresse er allerede tilmeldt workshoppen",
    "err_nobody": "Udfyld mindst én deltager",
    "err_too_many_rows": "Der kan højst tilmeldes {max} deltagere ad gangen",
    "err_refused": "Tilmeldingen kunne ikke gennemføres: {reason}",
    "err_cancel_refused": "Afmeldingen kunne ikke gennemføres: {reason}",
    "err_busy": "En anden tilmeldte sig i samme øjeblik. Intet er gemt; send formularen igen.",
}

EN: dict[str, str] = {
    "signup_title": "Workshop sign-up",
    "signup_when": "When",
    "signup_where": "Where",
    "signup_capacity": "Places",
    "signup_capacity_value": "{capacity} in all, {free} free",
    "signup_deadline": "Sign up by",
    "signup_intro": (
        "Sign your participants up with name, role and e-mail. Places are given in the order "
        "people sign up, across the municipalities and the region; when the workshop is full, "
        "a participant goes on the waiting list and moves up if a place becomes free. Each "
        "participant gets a mail: a confirmation with the calendar file, or word of the "
        "waiting list."
    ),
    "signup_yours": "Your participants",
    "signup_none": "You have not signed anybody up yet.",
    "signup_new": "Sign participants up",
    "signup_rows_hint": "Fill in one row per participant. Empty rows are skipped.",
    "signup_person": "Participant {n}",
    "signup_name": "Name",
    "signup_role": "Role",
    "signup_role_hint": "E.g. committee chair, manager or consultant (optional).",
    "signup_email": "E-mail",
    "signup_status": "Status",
    "signup_confirmed": "Signed up",
    "signup_waiting": "Waiting list (no. {n})",
    "signup_cancel": "Cancel {name}",
    "signup_submit": "Sign up",
    "signup_add_row": "Add another row",
    "signup_done": "{confirmed} signed up, {waiting} on the waiting list. Everybody gets a mail.",
    "signup_done_full": (
        "The workshop is full: {waiting} participant(s) are on the waiting list and will hear "
        "if a place becomes free."
    ),
    "signup_cancelled": "{name} has been cancelled.",
    "signup_moved_up": "The first on the waiting list has been given the place and is told.",
    "signup_closed": "The sign-up closed {deadline}. Write to the secretariat with any questions.",
    "signup_cancel_closed": "The workshop has begun; cancellations can no longer be made here.",
    "signup_stage_closed": "The sign-up is not open.",
    "err_name_missing": "Enter the participant's name",
    "err_name_too_long": "The name must be 200 characters or fewer",
    "err_role_too_long": "The role must be 200 characters or fewer",
    "err_email_missing": "Enter the participant's e-mail address",
    "err_email_invalid": "Enter a valid e-mail address (name@domain)",
    "err_email_twice": "This e-mail address is already signed up for the workshop",
    "err_nobody": "Fill in at least one participant",
    "err_too_many_rows": "At most {max} participants can be signed up at a time",
    "err_refused": "The sign-up could not be made: {reason}",
    "err_cancel_refused": "The cancellation could not be made: {reason}",
    "err_busy": "Somebody else signed up at the same moment. Nothing was saved; send the form again.",
}


def st(key: str, /, **params: Any) -> str:
    """A sign-up page text in the page's language."""
    text = (EN if lang() == "en" else DA)[key]
    return text.format(**params) if params else text
