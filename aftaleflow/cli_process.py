"""Commands that run a process: ``start``, ``tick``, ``status``, ``simulate`` and ``diagram``.

Registered with the main group in ``aftaleflow.cli``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from aftaleflow.cli_common import YEAR, App, console, local, parse_at, pass_app
from workflow import machines
from workflow.calendar import to_local
from workflow.errors import AftaleflowError
from workflow.labels import label
from workflow.loader import load_bundle
from workflow.risk_reads import calendars_of
from workflow.service import Service, bound_for
from workflow.storage.db import Database

if TYPE_CHECKING:
    from workflow.queries import ProcessStatus


@click.command()
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


@click.command()
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


@click.command()
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
    _print_status(st, lang, at_risk)


def _print_status(st: ProcessStatus, lang: str, at_risk: list[str]) -> None:
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
    console.print(_stage_table(st, lang))
    console.print(_party_table(st, lang))
    _print_warnings(st, at_risk)


def _stage_table(st: ProcessStatus, lang: str) -> Table:
    t = Table(title="Faser")
    for h in ("#", "Fase", "Forum", "Type", "Status", "Åbner", "Frist", "Lukker"):
        t.add_column(h)
    for i, sg in enumerate(st.stages, 1):
        t.add_row(
            str(i),
            sg.name,
            sg.forum,
            label(sg.kind, lang),
            label(sg.status, lang)
            + (f" ({sg.waiting[0] if lang == 'da' else sg.waiting[1]})" if sg.waiting else ""),
            local(sg.opens_at)[:10],
            (sg.deadline.isoformat() if sg.deadline else "—")
            + ((" (planlagt)" if lang == "da" else " (planned)") if sg.planned else ""),
            local(sg.closes_at)[:10] if sg.closes_at else "—",
        )
    return t


def _party_table(st: ProcessStatus, lang: str) -> Table:
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
    return m


def _print_warnings(st: ProcessStatus, at_risk: list[str]) -> None:
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
    if st.failing_contacts:
        console.print(
            "Erstat en fejlende kontakt med `aftaleflow contact replace PART ROLLE ADRESSE "
            "--name … --email … --reason …` (eller Kontakter på partens side i dashboardet)."
        )
    if at_risk:
        console.print(
            f"[red]Risiko i godkendelsen:[/] {', '.join(at_risk)} kan ikke nå fristen efter "
            "mødeplanen (se `aftaleflow calendar risks` eller Mødeplan i dashboardet)."
        )


@click.command()
@click.argument("definition", type=click.Path(path_type=Path), required=False)
@click.option("--year", type=YEAR, default=None, help="Forberedelsesåret (ikke med --from).")
@click.option("--late", default="", help="Kommaseparerede part-id'er, der svarer efter fristen.")
@click.option(
    "--deliver", is_flag=True, help="Send hver mail gennem den konfigurerede forsendelse."
)
@click.option("--all", "show_all", is_flag=True, help="Skriv hver parts linje, ikke et resumé.")
@click.option(
    "--from", "from_key", default=None, help="Hvad nu hvis: resten af året for en kørende proces."
)
@click.option("--slip", multiple=True, help="Med --from: FASE=+3w flytter fasen tre uger.")
@click.option("--at", "at_", default=None, help="Med --from: fra dette tidspunkt (standard: nu).")
@pass_app
def simulate(
    app: App,
    definition: Path | None,
    year: int | None,
    late: str,
    deliver: bool,
    show_all: bool,
    from_key: str | None,
    slip: tuple[str, ...],
    at_: str | None,
) -> None:
    """Kør hele forløbet på et virtuelt ur i en database, der smides væk bagefter.

    Med ``--from NØGLE`` kopieres en kørende proces, som den står, og resten af året køres
    i kopien: ``--slip FASE=+3w`` flytter en fase tre uger, ``--late a,b`` lader parter
    svare efter fristen. Den rigtige proces røres ikke."""
    from workflow.simulation import simulate as run

    late_set = frozenset(x.strip() for x in late.split(",") if x.strip())
    if from_key is not None:
        from aftaleflow.cli_whatif import simulate_live

        if definition is not None or year is not None or deliver:
            raise AftaleflowError(
                "--from simulerer en kørende proces i en kopi; angiv ikke også en definition, "
                "--year eller --deliver",
                en="--from simulates a running process in a copy; give no definition, --year "
                "or --deliver as well",
            )
        simulate_live(app, from_key, slip, late_set, show_all, at_)
        return
    if definition is None or year is None or slip:
        raise AftaleflowError(
            "angiv en definition og --year (eller --from NØGLE; --slip kun med --from)",
            en="give a definition and --year (or --from KEY; --slip only with --from)",
        )
    bundle = load_bundle(definition, reference_year=year)
    from aftaleflow.cli_calendar import print_date_report

    print_date_report(bundle, year)
    check_late(bundle, late_set)
    with tempfile.TemporaryDirectory(prefix="aftaleflow-sim-") as tmp:
        db = Database(f"sqlite:///{tmp}/simulation.db")
        db.migrate()
        svc = Service(db, link_secret=app.settings.secret_key, calendars=calendars_of)
        on_tick: Callable[[datetime], None] | None = None
        if deliver:
            from aftaleflow.cli_mail import deliver_callback

            on_tick = deliver_callback(app.settings, db)
        result = run(svc, bundle, year, late=late_set, on_tick=on_tick)
        print_simulation(bundle, result, show_all, late_set)
        if deliver:
            _print_delivery(db)
        db.dispose()


def check_late(bundle: Any, late: frozenset[str]) -> None:
    """Refused: ``--late`` names a party the definition does not have."""
    unknown = late - set(bundle.participants)
    if unknown:
        from workflow.definition_errors import suggest

        x = sorted(unknown)[0]
        raise AftaleflowError(
            f"--late nævner en ukendt part {x!r}{suggest(x, bundle.participants)}",
            en=f"--late names an unknown party {x!r}",
        )


def print_simulation(bundle: Any, result: Any, show_all: bool, late: frozenset[str]) -> None:
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


@click.command()
@click.argument("machine", required=False, type=click.Choice(sorted(machines.SPECS)))
def diagram(machine: str | None) -> None:
    """Tilstandsmaskinerne som Mermaid-tekst."""
    for name in [machine] if machine else sorted(machines.SPECS):
        click.echo(f"%% {name}\n{machines.mermaid(name)}\n")
