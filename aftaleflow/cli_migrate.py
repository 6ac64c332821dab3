"""``aftaleflow migrate KEY FILE [--dry-run]``: move a running process to a new version of its
definition, after a preview of what changes and of the mail plan before and after."""

from __future__ import annotations

from pathlib import Path

import click

from aftaleflow.cli_common import App, parse_at, pass_app
from workflow.dates import format_date
from workflow.definition_upload import load_new_version
from workflow.errors import AftaleflowError
from workflow.fork import live_now
from workflow.labels import label
from workflow.mail_plan import MailPlanDiff, PlannedMail
from workflow.process_migration import Preview, apply_migration, current, preview, refusal
from workflow.risk_reads import calendars_of

_AREAS = {"stage": "Faser", "date": "Datoer", "question": "Spørgsmål", "party": "Parter"}


@click.command()
@click.argument("key")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Vis kun, hvad der ændres; intet gemmes.")
@click.option("--reason", default="", help="Begrundelsen (skrives i revisionssporet).")
@click.option("--at", "at_", default=None, help="Tidspunktet (standard: processens nu).")
@pass_app
def migrate(app: App, key: str, file: Path, dry_run: bool, reason: str, at_: str | None) -> None:
    """Flyt en kørende proces til en ny version af sin definition (FILE: en
    procesdefinition eller et spørgeskema). Viser først forskellen i faser, datoer,
    spørgsmål og parter og mailplanen før og efter; historien skrives aldrig om."""
    app.service()  # checks the schema
    old, year, _ = current(app.db, key)
    new = load_new_version(old, file, year)
    now = parse_at(at_) if at_ else live_now(app.db, key, parse_at(None))
    pv = preview(
        app.db, key, new, now=now, link_secret=app.settings.secret_key, calendars=calendars_of
    )
    print_preview(pv)
    if not pv.plan.allowed:
        raise refusal(pv.plan)
    if dry_run:
        click.echo("\n--dry-run: intet er ændret.")
        return
    if not reason.strip():
        raise AftaleflowError(
            "angiv en begrundelse med --reason (eller se først med --dry-run)",
            en="give a reason with --reason (or look first with --dry-run)",
        )
    plan = apply_migration(
        app.service(), key, new, at=now, actor="cli", reason=reason, expect_hash=old.hash
    )
    click.echo(
        f"\nFlyttet: {key} kører nu definition {plan.new.process.id} "
        f"v{plan.new.process.version} {plan.new.hash[:12]} (før {plan.old.hash[:12]})."
    )


def print_preview(pv: Preview) -> None:
    plan = pv.plan
    click.echo(
        f"Proces {pv.key}: definition {plan.old.hash[:12]} → {plan.new.hash[:12]} "
        f"(version {plan.old.process.version} → {plan.new.process.version})"
    )
    if not plan.changes:
        click.echo("Ingen forskel i faser, datoer, spørgsmål eller parter.")
    for area, title in _AREAS.items():
        changes = [c for c in plan.changes if c.area == area]
        if changes:
            click.echo(f"\n{title}:")
            for c in changes:
                sign = {"added": "+", "removed": "-"}.get(c.what, "~")
                click.echo(f"  {sign} {c.da}")
    if plan.refusals:
        click.echo("\nAfvist:")
        for r in plan.refusals:
            click.echo(f"  ! {r.da}")
    if pv.mails is not None:
        parties = [*plan.old.parties.parties, *plan.new.parties.parties]
        print_mail_plan(pv.mails, {p.slug: p.name for p in parties})


def _mail(m: PlannedMail, names: dict[str, str]) -> str:
    who = f" → {names.get(m.party, m.party)}" if m.party else ""
    to = f" ({', '.join(m.recipients)})" if m.recipients else ""
    step = f" [{m.step}]" if m.step else ""
    return f"{format_date(m.day)}  {label(m.kind)}{step}  {m.stage}{who}{to}"


def print_mail_plan(d: MailPlanDiff, names: dict[str, str]) -> None:
    click.echo(f"\nMailplanen resten af året: {d.before} mail(s) før, {d.after} efter.")
    if d.unchanged:
        click.echo("  Ingen mails forsvinder, kommer til eller flyttes.")
        return
    for title, mails in (("Forsvinder", d.gone), ("Kommer til", d.new)):
        if mails:
            click.echo(f"  {title} ({len(mails)}):")
            for m in mails:
                click.echo(f"    {_mail(m, names)}")
    if d.moved:
        click.echo(f"  Flyttes ({len(d.moved)}):")
        for was, now in d.moved:
            click.echo(f"    {_mail(was, names)}  → {format_date(now.day)}")
