"""The texts of the page that moves a running process to a new version of its definition,
Danish first and English second (merged into ``web.dashboard.texts``)."""

from __future__ import annotations

DA: dict[str, str] = {
    "migrate_title": "Ny version af definitionen",
    "migrate_link": "Ny version af definitionen",
    "migrate_intro": (
        "Upload den redigerede procesdefinition eller det redigerede spørgeskema (YAML). Først "
        "vises forskellen og mailplanen før og efter – resten af året simuleret fra processens "
        "nuværende stand under begge versioner. Intet ændres, før du anvender den."
    ),
    "migrate_running": "Processen kører definition {id} version {version} ({hash}).",
    "f_definition_file": "Den redigerede definition (YAML)",
    "hint_definition_file": "En procesdefinition eller et spørgeskema, højst {max_kb} kB.",
    "act_preview": "Vis forskellen",
    "migrate_preview": "Forhåndsvisning: {old} → {new}",
    "migrate_changes": "Ændringer",
    "migrate_no_changes": "Ingen forskel i faser, datoer, spørgsmål eller parter.",
    "migrate_area_stage": "Faser",
    "migrate_area_date": "Datoer",
    "migrate_area_question": "Spørgsmål",
    "migrate_area_party": "Parter",
    "migrate_refused": "Flytningen afvises:",
    "migrate_mail_plan": "Mailplanen resten af året",
    "migrate_mail_counts": "{before} mail(s) før, {after} efter.",
    "migrate_mail_same": "Ingen mails forsvinder, kommer til eller flyttes.",
    "migrate_gone": "Forsvinder",
    "migrate_new": "Kommer til",
    "migrate_moved": "Flyttes",
    "migrate_day": "Dag",
    "migrate_new_day": "Ny dag",
    "migrate_kind": "Mail",
    "migrate_stage": "Fase",
    "migrate_party": "Part",
    "migrate_to": "Til",
    "act_migrate": "Anvend den nye version",
    "done_migrate": "Processen kører nu definition {hash} (før {old}).",
    "err_definition_file": "Filen kunne ikke læses som en definition:",
    "q_version": "spørgeskema version {n}",
}

EN: dict[str, str] = {
    "migrate_title": "New version of the definition",
    "migrate_link": "New version of the definition",
    "migrate_intro": (
        "Upload the edited process definition or the edited questionnaire (YAML). First you "
        "see the differences and the mail plan before and after – the rest of the year "
        "simulated from the process as it stands under both versions. Nothing changes until "
        "you apply it."
    ),
    "migrate_running": "The process runs definition {id} version {version} ({hash}).",
    "f_definition_file": "The edited definition (YAML)",
    "hint_definition_file": "A process definition or a questionnaire, at most {max_kb} kB.",
    "act_preview": "Show the differences",
    "migrate_preview": "Preview: {old} → {new}",
    "migrate_changes": "Changes",
    "migrate_no_changes": "No difference in stages, dates, questions or parties.",
    "migrate_area_stage": "Stages",
    "migrate_area_date": "Dates",
    "migrate_area_question": "Questions",
    "migrate_area_party": "Parties",
    "migrate_refused": "The migration is refused:",
    "migrate_mail_plan": "The mail plan for the rest of the year",
    "migrate_mail_counts": "{before} mail(s) before, {after} after.",
    "migrate_mail_same": "No mail disappears, appears or moves.",
    "migrate_gone": "Disappear",
    "migrate_new": "Appear",
    "migrate_moved": "Move",
    "migrate_day": "Day",
    "migrate_new_day": "New day",
    "migrate_kind": "Mail",
    "migrate_stage": "Stage",
    "migrate_party": "Party",
    "migrate_to": "To",
    "act_migrate": "Apply the new version",
    "done_migrate": "The process now runs definition {hash} (before {old}).",
    "err_definition_file": "The file could not be read as a definition:",
    "q_version": "questionnaire version {n}",
}
