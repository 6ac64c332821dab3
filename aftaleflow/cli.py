"""The ``aftaleflow`` command line: the secretariat's tool and the operator's.

Every command reads its settings here (``AFTALEFLOW_*``) and hands values down. Errors are
printed as one clear message and a non-zero exit code; no traceback reaches the user.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from aftaleflow.config import Settings, from_env
from workflow import machines
from workflow.calendar import to_local
from workflow.clock import parse_moment
from workflow.dates import format_sending
from workflow.errors import AftaleflowError, DefinitionError
from workflow.labels import label
from workflow.loader import check_file, is_process_file, load_bundle
from workflow.service import Service, bound_for, system_clock
from workflow.storage.db import Database, describe_failure, require_schema

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WEEKDAYS = ["man", "tir", "ons", "tor", "fre", "lør", "søn"]

#: A preparation year: the year the cycle is prepared in (2022 → the 2023-24 agreement).
YEAR = click.IntRange(2000, 2200)


def local(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    d = to_local(dt)
    return f"{d:%Y-%m-%d} {WEEKDAYS[d.weekday()]} {d:%H:%M}"


def parse_at(value: str | None) -> datetime:
    """``--at``: ISO date or date-time; without an offset it is Danish local time."""
    if not value:
        return system_clock()
    try:
        return parse_moment(value)
    except AftaleflowError:
        raise click.BadParameter(
            f"{value!r} er ikke et tidspunkt; skriv fx 2022-04-04T09:00"
        ) from None


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} er ikke en dato; skriv ÅÅÅÅ-MM-DD") from None


class App:
    """What every command needs, built lazily from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None

    def service(self, *, require: bool = True) -> Service:
        if require:
            require_schema(self.db.engine)
        return Service(self.db, link_secret=self.settings.secret_key)

    def only_key(self, key: str | None) -> str:
        if key:
            return key
        from workflow.queries import processes

        with self.db.sessions() as s:
            rows = [p for p in processes(s) if p.status in ("running", "blocked")] or processes(s)
        if len(rows) == 1:
            return rows[0].key
        if not rows:
            raise AftaleflowError(
                "der er ingen proces endnu; start en med `aftaleflow start DEFINITION --year Å`"
            )
        raise AftaleflowError(
            "der er flere processer: vælg én med --process (" + ", ".join(r.key for r in rows) + ")"
        )


pass_app = click.make_pass_decorator(App)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Aftaleflow: proces- og godkendelsesforløb for Nordjysk Socialaftale."""
    if ctx.obj is None and ctx.invoked_subcommand in ("check", "diagram"):
        return  # they read files only: no settings, nothing written under var/
    if ctx.obj is None:
        ctx.obj = App(from_env())
    if isinstance(ctx.obj, App):
        ctx.call_on_close(ctx.obj.close)  # no pooled connection outlives the command


# ---------------------------------------------------------------------- set-up


@cli.command()
@pass_app
def init(app: App) -> None:
    """Opret var/ og bring databasens skema up to date (kan køres igen uden skade)."""
    app.settings.var_dir.mkdir(parents=True, exist_ok=True)
    app.settings.mail_dir.mkdir(parents=True, exist_ok=True)
    app.db.migrate()
    console.print(f"Database klar: {app.db.engine.url.render_as_string()}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--year", type=YEAR, default=None, help="Forberedelsesåret, datoerne tjekkes mod.")
def check(files: tuple[Path, ...], year: int | None) -> None:
    """Tjek definitionsfiler; skriver fil:linje: besked for hvert problem.

    Med ``--year`` vises en procesdefinitions datoer på weekender og danske helligdage med
    det, deres regel gør ud af dem; et møde på sådan en dag er en advarsel (exitkode 0).
    """
    bad = 0
    for f in files:
        problems = check_file(f, reference_year=year)
        if problems:
            bad += 1
            for p in problems:
                click.echo(str(p))
        else:
            click.echo(f"{f}: ok")
            if year is not None and is_process_file(f):
                from aftaleflow.cli_calendar import print_date_report

                print_date_report(load_bundle(f, reference_year=year), year)
    if bad:
        click.echo(f"{bad} af {len(files)} fil(er) har fejl", err=True)
        sys.exit(1)


# ---------------------------------------------------------------------- processes


@cli.command()
@click.argument("definition", type=click.Path(path_type=Path))
@click.option("--year", type=YEAR, required=True, help="Forberedelsesåret (2022 → 2023-24).")
@click.option("--key", default=None, help="Processens navn (standard: <id>-<år>).")
@click.option("--at", "at_", default=None, help="Starttidspunkt (standard: nu).")
@pass_app
def start(app: App, definition: Path, year: int, key: str | None, at_: str | None) -> None:
    """Start en proces fra en definition, bundet til et forberedelsesår."""
    bundle = load_bundle(definition, reference_year=year)
    key = app.service().start(bundle, year, at=parse_at(at_), actor="cli", key=key)
    console.print(
        f"Startet: [bold]{key}[/] ({bundle.process.title_for(year)}), "
        f"definition {bundle.process.id} v{bundle.process.version} {bundle.hash[:12]}"
    )


@cli.command()
@click.option("--at", "at_", default=None, help="Tidspunktet for tick (standard: nu).")
@pass_app
def tick(app: App, at_: str | None) -> None:
    """Udfør alt, hvad der er forfaldent (det, scheduleren gør hvert minut)."""
    from workflow.scheduling import record_tick

    at = parse_at(at_)
    report = app.service().tick(at, actor="cli")
    app.service().queue_digests(at)
    record_tick(app.db, report, at)
    for a in report.applied:
        late = f" (forsinket {a.late_by})" if a in report.late else ""
        console.print(
            f"{local(a.at)}  {a.process_key}  {label(a.action.kind)}  "
            f"{a.action.stage} {a.action.party} {a.action.step}{late}"
        )
    console.print(f"{len(report.applied)} handling(er) i {report.processes} proces(ser)")


@cli.command()
@click.argument("key", required=False)
@click.option("--lang", default=None, help="da (standard) eller en")
@click.option("--at", "at_text", default=None, help="Vurdér mødeplanen pr. denne dag.")
@pass_app
def status(app: App, key: str | None, lang: str | None, at_text: str | None) -> None:
    """Hvor processen står: dens faser, en tabel med parter × faser, og hvem der ikke kan nå
    godkendelsesfristen efter rådenes mødekalendere."""
    from workflow.queries import process_status, processes
    from workflow.risk_reads import parties_at_risk
    from workflow.storage.models import ProcessRow

    lang = lang or app.settings.language
    app.service()  # checks the schema
    with app.db.sessions() as s:
        rows = processes(s)
        if not rows:
            console.print("Ingen processer endnu. Start en med `aftaleflow start`.")
            return
        if key is None and len(rows) > 1:
            t = Table(title="Processer")
            for h in ("Nøgle", "Titel", "År", "Status", "Næste"):
                t.add_column(h)
            for r in rows:
                t.add_row(r.key, r.title, str(r.year), label(r.status, lang), local(r.next_due_at))
            console.print(t)
            return
        key = key or rows[0].key
        from sqlalchemy import select

        prow = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        if prow is None:
            raise AftaleflowError(
                f"processen {key!r} findes ikke; kendte: {', '.join(r.key for r in rows)}"
            )
        bound = bound_for(prow)
        st = process_status(s, key, bound)
        today = to_local(parse_at(at_text)).date()
        at_risk = parties_at_risk(s, prow, bound, today)
    console.print(
        f"[bold]{st.title}[/] ({st.key}) — {label(st.status, lang)}; definition "
        f"{st.definition} {st.definition_hash[:12]}; næste handling {local(st.next_due_at)}"
    )
    if st.last_tick:
        console.print(
            f"Seneste tick: {st.last_tick.get('at_local', '?')} "
            f"({st.last_tick.get('applied', 0)} handlinger, "
            f"{st.last_tick.get('late', 0)} forsinkede)"
        )
    t = Table(title="Faser")
    for h in ("#", "Fase", "Forum", "Type", "Status", "Åbner", "Frist", "Lukker"):
        t.add_column(h)
    for i, sg in enumerate(st.stages, 1):
        t.add_row(
            str(i),
            sg.name,
            sg.forum,
            label(sg.kind, lang),
            label(sg.status, lang),
            local(sg.opens_at)[:10],
            sg.deadline.isoformat() if sg.deadline else "—",
            local(sg.closes_at)[:10] if sg.closes_at else "—",
        )
    console.print(t)
    per_party = [sg for sg in st.stages if sg.kind in ("questionnaire", "approval")]
    m = Table(title="Parter × faser")
    m.add_column("Part")
    for sg in per_party:
        m.add_column(sg.name)
    for p in st.parties:
        cells = []
        for sg in per_party:
            c = p.cells[sg.id]
            text = label(c.badge, lang) + (f" ({label(c.detail, lang)})" if c.detail else "")
            if c.deadline:
                text += f", frist {c.deadline.isoformat()}"
            cells.append(text)
        m.add_row(p.name, *cells)
    console.print(m)
    if st.outbox:
        console.print("Udbakke: " + ", ".join(f"{k}: {v}" for k, v in sorted(st.outbox.items())))
    if st.submission_refused:
        console.print(f"[red]Fremsendelse afvist:[/] {st.submission_refused}")
    for name in st.waiting_for_agreement:
        console.print(
            f"[yellow]Venter på aftalen:[/] {name} åbner først, når en version af aftalen er "
            "sendt til godkendelse (Aftalen i dashboardet)."
        )
    for address, reason in st.failing_contacts:
        console.print(f"[red]Fejlende adresse[/] {address}: {reason}")
    if at_risk:
        console.print(
            f"[red]Risiko i godkendelsen:[/] {', '.join(at_risk)} kan ikke nå fristen efter "
            "mødeplanen (se `aftaleflow calendar risks` eller Mødeplan i dashboardet)."
        )


# ---------------------------------------------------------------------- human acts


@cli.group()
def record() -> None:
    """Registrér et mødes resultat, en beslutning eller et godkendelsestrin."""


@record.command("outcome")
@click.argument("stage")
@click.option("--process", "key", default=None)
@click.option(
    "--outcome", type=click.Choice(["held", "approved", "rejected", "postponed"]), required=True
)
@click.option("--text", default="", help="Beslutningstekst, fx 'KKR anbefaler aftalen'.")
@click.option("--minutes", default="", help="Link til eller navn på referatet.")
@click.option(
    "--document-version",
    type=int,
    default=None,
    help="Den version af aftalen, en anbefalende beslutning (KKR) anbefaler; standard: den nyeste.",
)
@click.option("--reason", default="")
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def record_outcome(
    app: App,
    stage: str,
    key: str | None,
    outcome: str,
    text: str,
    minutes: str,
    document_version: int | None,
    reason: str,
    at_: str | None,
    actor: str,
) -> None:
    svc = app.service()
    applied = svc.record_outcome(
        app.only_key(key),
        stage,
        outcome=outcome,
        text=text,
        minutes=minutes,
        at=parse_at(at_),
        actor=actor,
        reason=reason,
        document_version=document_version,
    )
    console.print(f"Registreret: {stage} → {label(outcome)}; {len(applied)} handling(er) fulgte")


@record.command("approval")
@click.argument("stage")
@click.argument("party")
@click.argument("step")
@click.option("--process", "key", default=None)
@click.option("--decision", type=click.Choice(["approved", "rejected", "postponed"]), required=True)
@click.option("--meeting-date", default=None, help="ÅÅÅÅ-MM-DD")
@click.option("--agenda-item", default="")
@click.option("--text", "decision_text", default="")
@click.option("--minutes", default="")
@click.option("--reason", default="")
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def record_approval(
    app: App,
    stage: str,
    party: str,
    step: str,
    key: str | None,
    decision: str,
    meeting_date: str | None,
    agenda_item: str,
    decision_text: str,
    minutes: str,
    reason: str,
    at_: str | None,
    actor: str,
) -> None:
    at = parse_at(at_)
    if at > system_clock():
        raise click.BadParameter(
            f"{at_} ligger i fremtiden; en beslutning registreres, når den er truffet",
            param_hint="--at",
        )
    svc = app.service()
    svc.record_approval(
        app.only_key(key),
        stage,
        party,
        step,
        decision=decision,
        at=at,
        actor=actor,
        meeting_date=parse_date(meeting_date) if meeting_date else None,
        agenda_item=agenda_item,
        decision_text=decision_text,
        minutes=minutes,
        reason=reason,
    )
    console.print(f"Registreret: {party} {step} → {label(decision)}")


@cli.command()
@click.argument("stage")
@click.argument("party")
@click.option("--to", "to", required=True, help="Den nye frist, ÅÅÅÅ-MM-DD.")
@click.option("--reason", required=True)
@click.option("--process", "key", default=None)
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def extend(
    app: App,
    stage: str,
    party: str,
    to: str,
    reason: str,
    key: str | None,
    at_: str | None,
    actor: str,
) -> None:
    """Forlæng én parts frist; dens ventende påmindelser flytter med."""
    app.service().extend(
        app.only_key(key),
        stage,
        party,
        parse_date(to),
        at=parse_at(at_),
        actor=actor,
        reason=reason,
    )
    console.print(f"Frist for {party} i {stage} er nu {to}")


@cli.command()
@click.argument("stage")
@click.argument("party")
@click.option("--reason", required=True)
@click.option("--process", "key", default=None)
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def exempt(
    app: App, stage: str, party: str, reason: str, key: str | None, at_: str | None, actor: str
) -> None:
    """Fritag en part i en fase (ingen flere påmindelser)."""
    app.service().exempt(
        app.only_key(key), stage, party, at=parse_at(at_), actor=actor, reason=reason
    )
    console.print(f"{party} er fritaget i {stage}")


@cli.group()
def link() -> None:
    """Personlige links: genudsted (send et nyt) eller spær."""


@link.command("reissue")
@click.argument("stage")
@click.argument("party")
@click.argument("step", required=False, default="")
@click.option("--process", "key", default=None)
@click.option("--reason", required=True)
@click.option("--revoke-only", is_flag=True, help="Spær linket uden at sende et nyt.")
@click.option("--now", is_flag=True, help="Send det nye link nu, også uden for kontortid.")
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def link_reissue(
    app: App,
    stage: str,
    party: str,
    step: str,
    key: str | None,
    reason: str,
    revoke_only: bool,
    now: bool,
    at_: str | None,
    actor: str,
) -> None:
    """Send et nyt link (det gamle virker, til det nye er sendt); --revoke-only spærrer straks."""
    if revoke_only and now:
        raise click.UsageError("--now og --revoke-only kan ikke bruges sammen")
    at = parse_at(at_)
    change = app.service().revoke_link(
        app.only_key(key),
        stage,
        party,
        step,
        at=at,
        actor=actor,
        reason=reason,
        reissue=not revoke_only,
        now=now,
    )
    who = " ".join(x for x in (party, step) if x)
    if revoke_only:
        what = "er spærret"
    elif change.sends_at is None:
        what = "er genudstedt; det sendes med invitationen"
    else:
        what = f"er genudstedt og {format_sending(change.sends_at, at)}"
    console.print(f"Linket for {who} i {stage} {what} (link nr. {change.generation})")
    if change.sends_at is not None:
        console.print("Det gamle link virker, indtil det nye er sendt.")


@cli.group()
def document() -> None:
    """Aftaledokumentet: upload versioner, send én til godkendelse."""


@document.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--process", "key", default=None)
@click.option("--note", default="")
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def document_add(
    app: App, file: Path, key: str | None, note: str, at_: str | None, actor: str
) -> None:
    """Upload en ny version af aftalen."""
    import mimetypes

    media = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    version = app.service().add_document(
        app.only_key(key),
        filename=file.name,
        media_type=media,
        content=file.read_bytes(),
        at=parse_at(at_),
        actor=actor,
        note=note,
    )
    console.print(f"Version {version} gemt: {file.name}")


@document.command("approve-version")
@click.argument("version", type=int, required=False)
@click.option("--process", "key", default=None)
@click.option("--reason", required=True)
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def document_up(
    app: App, version: int | None, key: str | None, reason: str, at_: str | None, actor: str
) -> None:
    """Send en version til godkendelse (som standard den, KKR anbefalede): hver godkendelse
    gemmer dens hash."""
    svc, process = app.service(), app.only_key(key)
    digest = svc.put_up_for_approval(process, version, at=parse_at(at_), actor=actor, reason=reason)
    rec = svc.recommended_version(process)
    shown = version if version is not None else rec.get("version")
    console.print(f"Version {shown} ({digest[:12]}) er sendt til godkendelse")
    if rec and rec.get("sha256") != digest:
        console.print(
            f"Bemærk: KKR anbefalede version {rec.get('version')}, ikke version {shown}",
            style="bold yellow",
        )


# ---------------------------------------------------------------------- simulation and diagrams


@cli.command()
@click.argument("definition", type=click.Path(path_type=Path))
@click.option("--year", type=YEAR, required=True)
@click.option("--late", default="", help="Kommaseparerede part-id'er, der svarer efter fristen.")
@click.option(
    "--deliver", is_flag=True, help="Send hver mail gennem den konfigurerede forsendelse."
)
@click.option("--all", "show_all", is_flag=True, help="Skriv hver parts linje, ikke et resumé.")
@pass_app
def simulate(
    app: App, definition: Path, year: int, late: str, deliver: bool, show_all: bool
) -> None:
    """Kør hele forløbet på et virtuelt ur i en database, der smides væk bagefter."""
    from workflow.simulation import simulate as run

    bundle = load_bundle(definition, reference_year=year)
    from aftaleflow.cli_calendar import print_date_report

    print_date_report(bundle, year)
    late_set = frozenset(x.strip() for x in late.split(",") if x.strip())
    unknown = late_set - set(bundle.participants)
    if unknown:
        from workflow.loader import suggest

        x = sorted(unknown)[0]
        raise AftaleflowError(
            f"--late nævner en ukendt part {x!r}{suggest(x, bundle.participants)}"
        )
    with tempfile.TemporaryDirectory(prefix="aftaleflow-sim-") as tmp:
        db = Database(f"sqlite:///{tmp}/simulation.db")
        db.migrate()
        svc = Service(db, link_secret=app.settings.secret_key)
        on_tick: Callable[[datetime], None] | None = None
        if deliver:
            from aftaleflow.cli_mail import deliver_callback

            on_tick = deliver_callback(app.settings, db)
        result = run(svc, bundle, year, late=late_set, on_tick=on_tick)
        _print_simulation(bundle, result, show_all, late_set)
        if deliver:
            _print_delivery(db)
        db.dispose()


def _print_simulation(bundle: Any, result: Any, show_all: bool, late: frozenset[str]) -> None:
    names = {p.slug: p.name for p in bundle.parties.parties}
    stage_names = {s.id: s.name for s in bundle.process.stages}
    n_parties = len(bundle.participants)
    console.print(
        f"[bold]{bundle.process.title_for(result.year)}[/] — simulering "
        f"({n_parties} parter; sene: {', '.join(sorted(late)) or 'ingen'})"
    )
    grouped: dict[tuple[Any, ...], list[str]] = {}
    order: list[tuple[Any, ...]] = []
    for h in result.happenings:
        k = (local(h.at), h.kind, h.stage, h.step, h.detail)
        if k not in grouped:
            grouped[k] = []
            order.append(k)
        if h.party:
            grouped[k].append(h.party)
    stage_no = {s.id: i for i, s in enumerate(bundle.process.stages, 1)}
    rank = {slug: i for i, slug in enumerate(bundle.participants)}  # the registry's order
    for k in order:
        when, kind, stage, step, detail = k
        parties = grouped[k]
        who = ""
        if parties:
            if len(parties) == n_parties and not show_all:
                who = f"alle {n_parties} parter"
            else:
                shown = sorted(parties, key=lambda p: rank.get(p, len(rank)))
                who = ", ".join(names.get(p, p) for p in shown)
        step_txt = f" [{label(step)}]" if step else ""
        extra = f" ({label(detail)})" if detail and kind != "open_stage" else ""
        if kind == "open_stage":
            console.print(f"\n[bold]{when}  Fase {stage_no[stage]}: {stage_names[stage]}[/]")
            continue
        console.print(f"{when}  {label(kind)}{step_txt}{extra}" + (f" → {who}" if who else ""))
    console.print(f"\n{result.ticks} tick(s); processen er {label(result.final_status)}.")


def _print_delivery(db: Database) -> None:
    from sqlalchemy import func, select

    from workflow.storage.models import OutboxRow

    with db.sessions() as s:
        rows = s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all()
    console.print("Leveret: " + ", ".join(f"{st}: {n}" for st, n in rows))


@cli.command()
@click.argument("machine", required=False, type=click.Choice(sorted(machines.SPECS)))
def diagram(machine: str | None) -> None:
    """Tilstandsmaskinerne som Mermaid-tekst."""
    for name in [machine] if machine else sorted(machines.SPECS):
        click.echo(f"%% {name}\n{machines.mermaid(name)}\n")


def _register_optional() -> None:
    """Commands that live in their own modules (mail)."""
    try:
        from aftaleflow.cli_mail import outbox, send
    except ImportError:  # pragma: no cover - during development only
        return
    cli.add_command(outbox)
    cli.add_command(send)
    from aftaleflow.cli_users import user

    cli.add_command(user)
    from aftaleflow.cli_calendar import calendar

    cli.add_command(calendar)
    from aftaleflow.cli_inbox import inbox

    cli.add_command(inbox)


_register_optional()


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="aftaleflow", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Afbrudt.")
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except DefinitionError as e:
        for p in e.problems:
            click.echo(str(p), err=True)
        return 1
    except AftaleflowError as e:
        err.print(f"[red]Fejl:[/] {e}")
        return 2
    except DBAPIError as e:
        err.print(f"[red]Databasefejl:[/] {escape(describe_failure(_database_url(), e))}")
        return 2
    except OSError as e:  # a file or folder the command needs cannot be read or written
        where = f" {e.filename}" if e.filename else ""
        err.print(f"[red]Fejl:[/]{escape(where)}: {escape(str(e.strerror or e))}")
        return 2
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def _database_url() -> str:
    try:
        return from_env().database_url
    except AftaleflowError:
        return ""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
