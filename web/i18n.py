"""Danish first, English second: the page texts and the choice of language.

The language is chosen by ``?lang=da|en`` (remembered in the session) and otherwise is the
app's configured language. Only the page chrome is translated: the questions come from the
definition, which is written in Danish.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, session
from markupsafe import Markup

LANGUAGES = ("da", "en")

DA: dict[str, str] = {
    "app_name": "Aftaleflow",
    "skip_to_content": "Gå til indhold",
    "switch_language": "English",
    "switch_language_code": "en",
    # questionnaire
    "party": "Part",
    "stage": "Fase",
    "deadline": "Frist",
    "required": "skal besvares",
    "optional": "valgfrit",
    "choose_many": "Vælg gerne flere.",
    "text_hint": "Højst {max} tegn.",
    "file_hint": "{types}, højst {max_mb} MB.",
    "file_current": "Vedhæftet nu: {name} ({size})",
    "file_remove": "Fjern den vedhæftede fil",
    "file_replace": "Vælg en anden fil for at erstatte den.",
    "save_draft": "Gem kladde",
    "submit": "Indsend svar",
    "submit_again": "Indsend rettet svar",
    "draft_saved": "Kladden er gemt {when}. I kan lukke siden og fortsætte senere via samme link.",
    "draft_resumed": "I fortsætter på kladden, der blev gemt {when}.",
    "already_submitted": (
        "I indsendte version {version} {when}. I kan rette svaret og indsende igen "
        "frem til fristen – alle versioner gemmes."
    ),
    "late_notice": (
        "Fristen {deadline} er overskredet. I kan stadig indsende svaret; det bliver "
        "markeret som indsendt efter fristen."
    ),
    "scale_range": "Fra {min} til {max}",
    # error summary
    "error_title": "Der er et problem",
    "error_intro": "Ret det følgende, så kan svaret gemmes:",
    "err_required": "Skriv et svar",
    "err_required_choice": "Vælg et svar",
    "err_invalid_option": "Vælg et af de viste svar",
    "err_too_long": "Svaret må højst være {max} tegn – det er {length}",
    "err_not_a_number": "Vælg en værdi fra {min} til {max}",
    "err_out_of_range": "Vælg en værdi fra {min} til {max}",
    "err_invalid_file": "Filen kunne ikke læses – vælg den igen",
    "err_file_type": "Filen skal være {types}",
    "err_file_too_large": "Filen må højst fylde {max_mb} MB",
    "err_files_too_large": (
        "Filen blev ikke modtaget: alle filer i én indsendelse må tilsammen højst fylde {max_mb} "
        "MB. Det, du har skrevet, er bevaret – vælg en mindre fil"
    ),
    "err_file_empty": "Den valgte fil er tom",
    "err_not_a_date": "Skriv datoen som en gyldig dato, fx 2022-11-24",
    "err_date_in_future": "Mødedatoen kan ikke ligge efter i dag",
    "err_not_a_url": "Skriv en webadresse, der begynder med https://",
    "err_csrf": (
        "Siden havde ligget for længe, eller sikkerhedstjekket fejlede. Intet er gemt endnu – "
        "tjek svarene og tryk igen."
    ),
    # confirmation
    "confirmation_title": "Svaret er indsendt",
    "confirmation_version": "Version {version}, indsendt {when}.",
    "confirmation_late": "Svaret er modtaget efter fristen og er markeret som for sent.",
    "confirmation_receipt": "En kvittering med svarene bliver sendt til {party} pr. mail.",
    "confirmation_receipt_later": (
        "En kvittering med svarene bliver sendt til {party} pr. mail {when}, "
        "når sekretariatets kontortid begynder."
    ),
    "confirmation_edit": "I kan rette svaret og indsende igen frem til {until}.",
    "confirmation_edit_link": "Ret svaret",
    "your_answers": "Jeres svar",
    "versions": "Indsendte versioner",
    "version_line": "Version {version}: {when}",
    "late_mark": "for sent",
    "not_answered": "Ikke besvaret",
    # closed / exempt / deadline passed
    "closed_title": "Spørgeskemaet er lukket",
    "closed_text": (
        "Fasen »{stage}« er afsluttet, så der kan ikke længere indsendes eller rettes svar "
        "via dette link."
    ),
    "closed_submitted": "Jeres seneste svar (version {version}) blev modtaget {when}. Tak for det.",
    "closed_contact": "Har I spørgsmål, så kontakt {name} på {email}.",
    "deadline_passed_title": "Fristen er overskredet",
    "deadline_passed_text": (
        "Fristen for svar var {deadline}, og der tages ikke imod svar efter fristen i denne fase."
    ),
    "exempt_title": "I er fritaget",
    "exempt_text": "Sekretariatet har fritaget {party} for at svare i fasen »{stage}«.",
    "not_posted": "Det, der blev skrevet i formularen, er ikke gemt.",
    # approval
    "approval_title": "Registrér beslutning",
    "approval_heading": "{body}: beslutning om {title}",
    "approval_intro": (
        "Registrér {body_def} beslutning om aftalen for {party}. Oplysningerne indgår i den "
        "samlede godkendelse, der sendes til Socialstyrelsen."
    ),
    "meeting_date": "Mødedato",
    "meeting_date_hint": "Datoen for mødet, hvor sagen blev behandlet.",
    "agenda_item": "Punkt på dagsordenen",
    "agenda_item_hint": "Fx 7 eller 7.2.",
    "decision": "Beslutning",
    "decision_approved": "Godkendt",
    "decision_rejected": "Afvist",
    "decision_postponed": "Udsat",
    "decision_text": "Beslutningstekst",
    "decision_text_hint": "Fx »Godkendt« eller »Anbefales«, eller beslutningen som i protokollen.",
    "minutes": "Referat eller protokol",
    "minutes_hint": "Vedhæft referatet, skriv en webadresse til det, eller begge dele (valgfrit).",
    "minutes_file": "Fil med referatet",
    "minutes_url": "Webadresse til referatet",
    "record_decision": "Registrér beslutningen",
    "rejection_warning": (
        "Bemærk: En afvisning standser processen, indtil sagen er afklaret, og sekretariatet "
        "får besked med det samme."
    ),
    "decision_recorded_title": "Beslutningen er registreret",
    "decision_recorded": "{body}, {party}: {decision} på mødet {date}, punkt {item}.",
    "decision_change": "Er der sket en fejl, eller er sagen behandlet igen, kan I registrere en ny beslutning nedenfor.",
    "decision_final": "Beslutningen er endelig. Kontakt {name} på {email}, hvis den skal rettes.",
    "minutes_recorded": "Referat: {minutes}",
    "agreement_up": "Til godkendelse",
    "agreement_version": "Version {version}: {filename}",
    "agreement_download": "Hent aftalen (version {version})",
    "agreement_approved_version": "Beslutningen gælder version {version} af aftalen.",
    "approval_closed_title": "Godkendelsen er afsluttet",
    "approval_closed_text": "Fasen »{stage}« er afsluttet, så der kan ikke registreres beslutninger via dette link.",
    # errors
    "not_found_title": "Siden findes ikke",
    "not_found_text": "Tjek adressen, eller brug linket i den seneste mail fra sekretariatet.",
    "too_many_title": "For mange forsøg",
    "too_many_text": "Der har været for mange forsøg fra jeres netværk. Vent et minut, og prøv igen.",
    "too_large_title": "Indsendelsen er for stor",
    "too_large_text": (
        "Det, der blev sendt, fylder mere end {max_mb} MB, som er det mest, der modtages ad "
        "gangen. Intet fra denne indsendelse er gemt; det, der var gemt før, er der stadig. "
        "Vælg mindre filer, og indsend igen."
    ),
    "too_large_form_text": (
        "Teksten i formularen fylder mere end {max_kb} kB, som er det mest, der modtages ad "
        "gangen. Intet fra denne indsendelse er gemt; det, der var gemt før, er der stadig. "
        "Gør de længste svar kortere, eller vedhæft dem som fil."
    ),
    "too_large_back": "Tilbage til formularen",
    "bad_request_title": "Formularen kunne ikke modtages",
    "bad_request_text": "Gå tilbage, genindlæs siden, og prøv igen.",
    "server_error_title": "Der opstod en fejl",
    "server_error_text": "Noget gik galt hos os. Intet er gået tabt af det, der allerede var gemt. Prøv igen om lidt.",
    "index_title": "Aftaleflow",
    "index_text": (
        "Her besvarer I spørgeskemaer og registrerer beslutninger via det personlige link, "
        "som I har fået pr. mail fra sekretariatet."
    ),
    "body_socialudvalg": "Socialudvalget",
    "body_byraad": "Byrådet",
    "body_regionsraad": "Regionsrådet",
    "body_def_socialudvalg": "socialudvalgets",
    "body_def_byraad": "byrådets",
    "body_def_regionsraad": "regionsrådets",
}

EN: dict[str, str] = {
    "app_name": "Aftaleflow",
    "skip_to_content": "Skip to content",
    "switch_language": "Dansk",
    "switch_language_code": "da",
    "party": "Party",
    "stage": "Stage",
    "deadline": "Deadline",
    "required": "required",
    "optional": "optional",
    "choose_many": "You can choose more than one.",
    "text_hint": "At most {max} characters.",
    "file_hint": "{types}, at most {max_mb} MB.",
    "file_current": "Attached now: {name} ({size})",
    "file_remove": "Remove the attached file",
    "file_replace": "Choose another file to replace it.",
    "save_draft": "Save draft",
    "submit": "Submit answers",
    "submit_again": "Submit corrected answers",
    "draft_saved": "The draft was saved {when}. You can close the page and continue later with the same link.",
    "draft_resumed": "You are continuing the draft saved {when}.",
    "already_submitted": (
        "You submitted version {version} {when}. You can correct the answers and submit again "
        "until the deadline – every version is kept."
    ),
    "late_notice": (
        "The deadline {deadline} has passed. You can still submit; the answers will be marked "
        "as submitted late."
    ),
    "scale_range": "From {min} to {max}",
    "error_title": "There is a problem",
    "error_intro": "Correct the following so the answers can be saved:",
    "err_required": "Enter an answer",
    "err_required_choice": "Select an answer",
    "err_invalid_option": "Select one of the options shown",
    "err_too_long": "The answer must be {max} characters or fewer – it is {length}",
    "err_not_a_number": "Select a value from {min} to {max}",
    "err_out_of_range": "Select a value from {min} to {max}",
    "err_invalid_file": "The file could not be read – choose it again",
    "err_file_type": "The file must be {types}",
    "err_file_too_large": "The file must be {max_mb} MB or smaller",
    "err_files_too_large": (
        "The file was not received: all files of one submission together must be {max_mb} MB "
        "or smaller. What you typed has been kept – choose a smaller file"
    ),
    "err_file_empty": "The chosen file is empty",
    "err_not_a_date": "Enter a real date, e.g. 2022-11-24",
    "err_date_in_future": "The meeting date cannot be after today",
    "err_not_a_url": "Enter a web address that starts with https://",
    "err_csrf": (
        "The page was open too long or the security check failed. Nothing has been saved yet – "
        "check the answers and press the button again."
    ),
    "confirmation_title": "Your answers have been submitted",
    "confirmation_version": "Version {version}, submitted {when}.",
    "confirmation_late": "The answers arrived after the deadline and are marked as late.",
    "confirmation_receipt": "A receipt with the answers will be e-mailed to {party}.",
    "confirmation_receipt_later": (
        "A receipt with the answers will be e-mailed to {party} on {when}, "
        "when the secretariat's office hours begin."
    ),
    "confirmation_edit": "You can correct the answers and submit again until {until}.",
    "confirmation_edit_link": "Correct the answers",
    "your_answers": "Your answers",
    "versions": "Submitted versions",
    "version_line": "Version {version}: {when}",
    "late_mark": "late",
    "not_answered": "Not answered",
    "closed_title": "The questionnaire is closed",
    "closed_text": (
        "The stage “{stage}” has ended, so answers can no longer be submitted or corrected "
        "through this link."
    ),
    "closed_submitted": "Your latest answers (version {version}) were received {when}. Thank you.",
    "closed_contact": "If you have questions, contact {name} at {email}.",
    "deadline_passed_title": "The deadline has passed",
    "deadline_passed_text": "The deadline was {deadline}, and this stage takes no late answers.",
    "exempt_title": "You are exempt",
    "exempt_text": "The secretariat has exempted {party} from answering in the stage “{stage}”.",
    "not_posted": "What was typed into the form has not been saved.",
    "approval_title": "Record a decision",
    "approval_heading": "{body}: decision on {title}",
    "approval_intro": (
        "Record {body_def} decision on the agreement for {party}. It becomes part of the "
        "approval record sent to Socialstyrelsen."
    ),
    "meeting_date": "Meeting date",
    "meeting_date_hint": "The date of the meeting that decided the case.",
    "agenda_item": "Agenda item",
    "agenda_item_hint": "E.g. 7 or 7.2.",
    "decision": "Decision",
    "decision_approved": "Approved",
    "decision_rejected": "Rejected",
    "decision_postponed": "Postponed",
    "decision_text": "Decision text",
    "decision_text_hint": "E.g. “Approved” or “Recommended”, or the decision as in the minutes.",
    "minutes": "Minutes",
    "minutes_hint": "Attach the minutes, give a web address to them, or both (optional).",
    "minutes_file": "File with the minutes",
    "minutes_url": "Web address of the minutes",
    "record_decision": "Record the decision",
    "rejection_warning": (
        "Note: a rejection stops the process until the matter is resolved, and the secretariat "
        "is told at once."
    ),
    "decision_recorded_title": "The decision has been recorded",
    "decision_recorded": "{body}, {party}: {decision} at the meeting on {date}, item {item}.",
    "decision_change": "If there was a mistake, or the case was decided again, you can record a new decision below.",
    "decision_final": "The decision is final. Contact {name} at {email} if it must be corrected.",
    "minutes_recorded": "Minutes: {minutes}",
    "agreement_up": "Up for approval",
    "agreement_version": "Version {version}: {filename}",
    "agreement_download": "Download the agreement (version {version})",
    "agreement_approved_version": "The decision concerns version {version} of the agreement.",
    "approval_closed_title": "The approval has ended",
    "approval_closed_text": "The stage “{stage}” has ended, so decisions can no longer be recorded through this link.",
    "not_found_title": "Page not found",
    "not_found_text": "Check the address, or use the link in the latest e-mail from the secretariat.",
    "too_many_title": "Too many attempts",
    "too_many_text": "There have been too many attempts from your network. Wait a minute and try again.",
    "too_large_title": "The submission is too large",
    "too_large_text": (
        "What was sent is larger than {max_mb} MB, the most that is received at a time. "
        "Nothing of this submission has been saved; what was saved before is still there. "
        "Choose smaller files and submit again."
    ),
    "too_large_form_text": (
        "The text of the form is larger than {max_kb} kB, the most that is received at a time. "
        "Nothing of this submission has been saved; what was saved before is still there. "
        "Shorten the longest answers, or attach them as a file."
    ),
    "too_large_back": "Back to the form",
    "bad_request_title": "The form could not be received",
    "bad_request_text": "Go back, reload the page and try again.",
    "server_error_title": "Something went wrong",
    "server_error_text": "Something went wrong on our side. Nothing already saved has been lost. Try again shortly.",
    "index_title": "Aftaleflow",
    "index_text": (
        "Here you answer questionnaires and record decisions through the personal link the "
        "secretariat e-mailed to you."
    ),
    "body_socialudvalg": "The social committee",
    "body_byraad": "The municipal council",
    "body_regionsraad": "The regional council",
    "body_def_socialudvalg": "the social committee's",
    "body_def_byraad": "the municipal council's",
    "body_def_regionsraad": "the regional council's",
}

MESSAGES = {"da": DA, "en": EN}


def choose_language() -> None:
    """Before each request: ``?lang=`` switches (and is remembered), else the session's
    choice, else the app's language."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        session["lang"] = asked
    chosen = session.get("lang")
    g.lang = chosen if chosen in LANGUAGES else current_app.config["AFTALEFLOW_LANGUAGE"]


def lang() -> str:
    return str(g.get("lang") or current_app.config["AFTALEFLOW_LANGUAGE"])


def danish() -> Markup:
    """`` lang="da"`` for an element that holds Danish content (the definitions' questions,
    stage names, answers) on a page in another language, so a screen reader reads it as
    Danish; nothing on a Danish page."""
    return Markup("") if lang() == "da" else Markup(' lang="da"')


def t(key: str, /, **params: Any) -> str:
    """The text for ``key`` in the current language (Danish if English lacks it); a missing
    key shows itself, so it is noticed rather than hidden."""
    text = MESSAGES.get(lang(), DA).get(key) or DA.get(key) or key
    return text.format(**params) if params else text
