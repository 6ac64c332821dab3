"""The secretariat's records: ``record outcome|approval``, ``extend`` and ``exempt``.

Registered with the main group in ``aftaleflow.cli``.
"""

from __future__ import annotations

import click

from aftaleflow.cli_common import App, console, parse_at, parse_date, pass_app
from workflow.labels import label
from workflow.service import system_clock


@click.group()
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
@click.option(
    "--value",
    "values",
    multiple=True,
    metavar="NAVN=A,B,C",
    help="En værdi, beslutningen træffer (fx KKR's fokusområder: "
    "--value focus_areas=socialpsykiatri,den-gode-alderdom); kan gentages.",
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
    values: tuple[str, ...],
    reason: str,
    at_: str | None,
    actor: str,
) -> None:
    decided = parse_values(values)
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
        values=decided,
    )
    console.print(f"Registreret: {stage} → {label(outcome)}; {len(applied)} handling(er) fulgte")
    for name, chosen in decided.items():
        console.print(f"  {name}: {', '.join(chosen)}")


def parse_values(given: tuple[str, ...]) -> dict[str, list[str]]:
    """``--value focus_areas=a,b,c`` (repeatable) → {"focus_areas": ["a", "b", "c"]}."""
    out: dict[str, list[str]] = {}
    for item in given:
        name, eq, rest = item.partition("=")
        if not eq or not name.strip():
            raise click.BadParameter(
                f"{item!r}: skriv NAVN=A,B,C, fx focus_areas=socialpsykiatri,den-gode-alderdom",
                param_hint="--value",
            )
        out[name.strip()] = [v.strip() for v in rest.split(",") if v.strip()]
    return out


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


@click.command()
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


@click.command()
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
