"""The texts of the compiled report (page, PDF, DOCX), Danish first and English second, and
numbers written the way each language writes them (``41,7 %`` / ``41.7%``).

``web.dashboard.texts`` merges ``DA`` and ``EN`` into its tables, so ``dt`` finds them.
"""

from __future__ import annotations

from web.i18n import lang

DA: dict[str, str] = {
    "report_docx": "Hent som Word (DOCX)",
    "report_xlsx": "Hent tallene som regneark (XLSX)",
    "report_downloads": "Hent rapporten",
    "report_made": "Dannet {at}.",
    "report_coverage": "Hvem har svaret",
    "report_coverage_line": (
        "{answered} har svaret til tiden, {late} for sent, {exempt} er fritaget, "
        "og {missing} har ikke svaret."
    ),
    "report_version": (
        "Spørgeskemaet »{title}« ({id}), version {version}. Definitionens SHA-256: {hash}."
    ),
    "report_status_answered": "Svaret",
    "report_status_late": "Svaret for sent",
    "report_status_exempt": "Fritaget",
    "report_status_missing": "Ikke svaret",
    "report_col_party": "Part",
    "report_col_status": "Status",
    "report_col_version": "Svarets version",
    "report_col_submitted": "Indsendt",
    "report_col_q_version": "Spørgeskemaets version",
    "report_col_answered": "Besvarede spørgsmål",
    "report_answered_n": "{n} af {total}",
    "report_col_option": "Svarmulighed",
    "report_col_point": "Værdi",
    "report_col_count": "Antal",
    "report_col_share": "Andel",
    "report_col_rank": "Placering",
    "report_col_parties": "Parter",
    "report_col_answer": "Svar",
    "report_n": "{n} af {of} parter har besvaret spørgsmålet.",
    "report_ranking_note": (
        "Rangordnet efter antallet af parter, der har valgt svarmuligheden; "
        "lige mange deler placering."
    ),
    "report_multiple_note": "Der kunne vælges flere svar, så andelene giver mere end 100 %.",
    "report_mean_median": "Gennemsnit {mean}, median {median} (skala {min}–{max}).",
    "report_unanswered": "Ikke besvaret af: {names}.",
    "report_files": "Vedhæftede filer",
    "chart_describe": "Søjlediagram over {n} parters svar.",
    "summary_heading": "Sekretariatets opsamling",
    "summary_overall": "Sekretariatets samlede opsamling",
    "summary_none": "Sekretariatet har endnu ikke skrevet en opsamling.",
    "summary_by": "Version {version}, gemt af {author} {at}.",
    "summary_write": "Skriv sekretariatets opsamling",
    "summary_edit": "Rediger sekretariatets opsamling",
    "summary_older": "Tidligere versioner ({count})",
    "summary_save": "Gem opsamlingen",
    "summary_saved": "Opsamlingen er gemt som version {version}.",
    "summary_unchanged": "Opsamlingen er uændret; der er ikke gemt en ny version.",
    "summary_conflict": (
        "{author} har gemt version {version} af opsamlingen {at}, efter du åbnede siden. "
        "Din tekst står stadig i feltet: flet den ind i den nye version, og gem igen."
    ),
    "f_summary_text": "Opsamling",
    "hint_summary_text": (
        "Tomme linjer adskiller afsnit; linjer, der begynder med »-«, bliver punkter. "
        "Hver gemning bliver en ny version."
    ),
}

EN: dict[str, str] = {
    "report_docx": "Download as Word (DOCX)",
    "report_xlsx": "Download the figures as a spreadsheet (XLSX)",
    "report_downloads": "Download the report",
    "report_made": "Made {at}.",
    "report_coverage": "Who answered",
    "report_coverage_line": (
        "{answered} answered on time, {late} late, {exempt} are exempt, "
        "and {missing} have not answered."
    ),
    "report_version": (
        "Questionnaire “{title}” ({id}), version {version}. The definition's SHA-256: {hash}."
    ),
    "report_status_answered": "Answered",
    "report_status_late": "Answered late",
    "report_status_exempt": "Exempt",
    "report_status_missing": "Not answered",
    "report_col_party": "Party",
    "report_col_status": "Status",
    "report_col_version": "Answer version",
    "report_col_submitted": "Submitted",
    "report_col_q_version": "Questionnaire version",
    "report_col_answered": "Questions answered",
    "report_answered_n": "{n} of {total}",
    "report_col_option": "Option",
    "report_col_point": "Value",
    "report_col_count": "Count",
    "report_col_share": "Share",
    "report_col_rank": "Rank",
    "report_col_parties": "Parties",
    "report_col_answer": "Answer",
    "report_n": "{n} of {of} parties answered the question.",
    "report_ranking_note": (
        "Ranked by the number of parties that chose the option; ties share a rank."
    ),
    "report_multiple_note": "Several answers could be chosen, so the shares add up past 100%.",
    "report_mean_median": "Mean {mean}, median {median} (scale {min}–{max}).",
    "report_unanswered": "Not answered by: {names}.",
    "report_files": "Attached files",
    "chart_describe": "Bar chart of {n} parties' answers.",
    "summary_heading": "The secretariat's summary",
    "summary_overall": "The secretariat's overall summary",
    "summary_none": "The secretariat has not written a summary yet.",
    "summary_by": "Version {version}, saved by {author} {at}.",
    "summary_write": "Write the secretariat's summary",
    "summary_edit": "Edit the secretariat's summary",
    "summary_older": "Earlier versions ({count})",
    "summary_save": "Save the summary",
    "summary_saved": "The summary is saved as version {version}.",
    "summary_unchanged": "The summary is unchanged; no new version was saved.",
    "summary_conflict": (
        "{author} saved version {version} of the summary {at}, after you opened the page. "
        "Your text is still in the field: merge it into the new version and save again."
    ),
    "f_summary_text": "Summary",
    "hint_summary_text": (
        "Blank lines separate paragraphs; lines starting with “-” become bullet points. "
        "Every save is a new version."
    ),
}


def percent(share: float) -> str:
    """A share as a percentage with one decimal: ``41,7 %`` (Danish), ``41.7%`` (English)."""
    text = f"{share * 100:.1f}"
    return f"{text}%" if lang() == "en" else f"{text.replace('.', ',')} %"


def decimal(value: float | None) -> str:
    """A mean or median with at most two decimals: ``3,75`` / ``3.75``; ``–`` for none."""
    if value is None:
        return "–"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if lang() == "en" else text.replace(".", ",")
