"""Calendar commands and reports: dates on non-working days, councils' meeting plans.

``print_date_report`` is what ``aftaleflow check FILE --year Y`` and ``simulate`` print after a
definition: every date of the bound year on a weekend or a Danish holiday, what its rule makes of
it, and a warning (``file:line: [field] advarsel: …``, exit code 0) for a meeting, workshop or
deadline that still lands on such a day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from workflow.calendar_files import write_checked
from workflow.councils import ALL_BODIES, CYCLE, load_calendars, merged_text
from workflow.councils_edit import check_owner_body, ics_meetings
from workflow.councils_plan import DEFAULT_MINUTES_WORKING_DAYS, StepPlan, plan_parties
from workflow.dates import format_date
from workflow.definition_errors import line_of
from workflow.errors import AftaleflowError
from workflow.labels import label
from workflow.loader import Bundle
from workflow.roll import (
    DA_WEEKDAYS,
    WEEKDAYS,
    DateHit,
    date_hits,
    weekday_placements,
)

WHAT = {
    "deadline": "frist",
    "meeting": "møde",
    "workshop": "workshop",
    "send": "udsendelse",
    "opens": "fasen åbner",
    "closes": "fasen lukker",
}
RULE = {
    "next_working_day": "flyttes til næste arbejdsdag",
    "previous_working_day": "flyttes til forrige arbejdsdag",
    "keep": "beholdes",
    "office_slot": "mails går ud næste arbejdsdag kl. kontortid",
}


def describe(hit: DateHit) -> str:
    """``mandag den 20. maj 2024 (Anden pinsedag) → tirsdag den 21. maj 2024``-style line."""
    when = f"{format_date(hit.written)} ({hit.reason})"
    if hit.what == "closes":
        outcome = "lukker ved dagens udgang; intet sendes"
    elif hit.outcome != hit.written:
        outcome = f"{format_date(hit.outcome)} ({RULE[hit.rule]})"
    else:
        outcome = RULE[hit.rule]
    return f"{when}: {WHAT[hit.what]} – {hit.title} → {outcome}"


def print_date_report(bundle: Bundle, year: int) -> int:
    """Print the non-working-day dates of ``bundle`` in ``year``; returns the number of warnings."""
    hits = date_hits(bundle.process, year)
    path = bundle.path
    placed = weekday_placements(bundle.process, year)
    if placed:
        click.echo(f"{path}: møder og workshops på faste ugedage i {year}:")
        for w in placed:
            rule = f"første {DA_WEEKDAYS[WEEKDAYS.index(w.weekday)]} fra {format_date(w.anchor)}"
            click.echo(f"  {format_date(w.day)}: {w.title} ({rule})  [{w.field}]")
    if not hits:
        click.echo(f"{path}: ingen datoer på weekender eller helligdage i {year}")
        return 0
    click.echo(f"{path}: {len(hits)} dato(er) på weekender eller helligdage i {year}:")
    for h in hits:
        click.echo(f"  {describe(h)}  [{h.field}]")
    warnings = [h for h in hits if h.warning]
    for h in warnings:
        line = line_of(Path(path), h.field) if path else None
        where = f"{path}:{line}" if line else path
        click.echo(
            f"{where}: [{h.field}] advarsel: {WHAT[h.what]} {h.title!r} ligger "
            f"{format_date(h.outcome)} ({h.reason}); giv datoen en 'weekday' eller en 'roll'"
        )
    return len(warnings)


# ---------------------------------------------------------------------- aftaleflow calendar


def default_calendar_file(year: int) -> Path:
    return Path("definitions") / "calendars" / f"{year}.yaml"


@click.group("calendar")
def calendar() -> None:
    """Rådenes mødeplaner: importér dem, og planlæg godkendelserne efter dem."""


@calendar.command("import")
@click.argument("ics", required=False, type=click.Path(path_type=Path))
@click.option(
    "--url", default=None, help="Hent kalenderen fra en http(s)-adresse i stedet for en fil."
)
@click.option("--party", default=CYCLE, help="Partens id (for KKR og DAS Social: cycle).")
@click.option("--body", required=True, type=click.Choice(ALL_BODIES))
@click.option("--year", type=int, required=True)
@click.option(
    "--calendars",
    "target",
    type=click.Path(path_type=Path),
    default=None,
    help="Kalenderfilen, der flettes ind i (standard: definitions/calendars/ÅR.yaml).",
)
@click.option("--parties", default="nordjylland", help="Partslisten til en ny kalenderfil.")
def calendar_import(
    ics: Path | None,
    url: str | None,
    party: str,
    body: str,
    year: int,
    target: Path | None,
    parties: str,
) -> None:
    """Flet et råds .ics-kalender (en fil eller --url) ind i årets kalenderfil (erstatter det
    organs møder)."""
    from aftaleflow.ics_fetch import fetch_ics

    if (ics is None) == (url is None):
        raise AftaleflowError(
            "angiv enten en .ics-fil eller --url ADRESSE (ikke begge)",
            en="give either an .ics file or --url ADDRESS (not both)",
        )
    check_owner_body(party, body)
    if url is not None:
        source, data = url, fetch_ics(url)
    else:
        assert ics is not None
        try:
            source, data = str(ics), ics.read_bytes()
        except OSError as e:
            raise AftaleflowError(f"{ics} kan ikke læses: {e.strerror or e}") from None
    target = target or default_calendar_file(year)
    existing = target.read_text(encoding="utf-8") if target.exists() else None
    before = 0
    if existing is not None:
        old = load_calendars(target)
        if old.year != year:
            raise AftaleflowError(f"{target} er kalenderen for {old.year}, ikke {year}")
        before = len(old.of(party, body))
    meetings = ics_meetings(data, year, source)
    text = merged_text(
        existing, year=year, parties=parties, owner=party, body=body, meetings=list(meetings)
    )
    write_checked(target, text)
    click.echo(
        f"{len(meetings)} møde(r) for {party} {body} i {year} → {target}"
        + (f" (erstatter {before})" if before else "")
    )


@calendar.command("risks")
@click.argument("definition", type=click.Path(path_type=Path))
@click.option("--year", type=int, required=True, help="Forberedelsesåret.")
@click.option(
    "--calendars",
    "source",
    type=click.Path(path_type=Path),
    default=None,
    help="Kalenderfilen (standard: definitions/calendars/ÅR.yaml).",
)
@click.option(
    "--minutes-working-days",
    type=click.IntRange(0, 30),
    default=DEFAULT_MINUTES_WORKING_DAYS,
    show_default=True,
    help="Arbejdsdage efter et møde, til beslutningen foreligger.",
)
def calendar_risks(
    definition: Path, year: int, source: Path | None, minutes_working_days: int
) -> None:
    """Mødeplan: hver parts planlagte møde pr. godkendelsestrin, og hvem der ikke når det."""
    from workflow.calendar import to_local
    from workflow.definition import ApprovalStage
    from workflow.loader import load_bundle
    from workflow.timeline import bind

    bundle = load_bundle(definition, reference_year=year)
    cal = load_calendars(source or default_calendar_file(year))
    bound = bind(bundle, year)
    names = {p.slug: p.name for p in bundle.parties.parties}
    title = f"Mødeplan {year}" + (" (eksempeldata)" if cal.example else "")
    click.echo(f"{title} — {bundle.process.title_for(year)}; kalender {cal.path}")
    for stage in bound.stages:
        st = stage.definition
        if not isinstance(st, ApprovalStage) or stage.deadline is None:
            continue
        opens = to_local(stage.opens_at).date()
        chains = {
            slug: list(st.chains.get(bundle.parties.get(slug).kind, []))
            for slug in bundle.participants
        }
        plans = plan_parties(cal, chains, opens, stage.deadline, minutes_working_days)
        click.echo(f"\n{st.name}: åbner {format_date(opens)}, frist {format_date(stage.deadline)}")
        for plan in plans:
            mark = "RISIKO" if plan.at_risk else "ok"
            click.echo(f"  {names.get(plan.party, plan.party)}: {mark}")
            for step in plan.steps:
                click.echo(f"    {step_line(step, stage.deadline)}")
        risky = [names.get(p.party, p.party) for p in plans if p.at_risk]
        click.echo(
            f"  {len(risky)} af {len(plans)} parter kan ikke nå fristen: {', '.join(risky)}"
            if risky
            else f"  Alle {len(plans)} parter kan nå fristen."
        )


def step_line(step: StepPlan, stage_deadline: date) -> str:
    body = label(step.body)
    if step.request is None:
        return f"{body}: kan ikke planlægges, før trinnet før har et møde"
    if not step.has_calendar:
        return (
            f"{body}: ingen mødeplan; anmodes {format_date(step.request)}, "
            f"frist {format_date(stage_deadline)}"
        )
    if step.meeting is None:
        return (
            f"{body}: intet møde i kalenderen med åben dagsorden efter {format_date(step.request)}"
        )
    assert step.agenda_deadline is not None and step.deadline is not None
    late = " ← efter fasens frist" if step.meeting.date > stage_deadline else ""
    return (
        f"{body}: møde {format_date(step.meeting.date)}{late}; anmodes "
        f"{format_date(step.request)}, dagsordensfrist {format_date(step.agenda_deadline)}, "
        f"trinnets frist {format_date(step.deadline)}"
    )
