"""Moving the plan: ``meeting move|cancel`` (a meeting or workshop) and ``stage deadline``
(a stage's deadline for every party). Registered with the main group in ``aftaleflow.cli``."""

from __future__ import annotations

import click

from aftaleflow.cli_common import App, console, parse_at, parse_date, pass_app
from workflow.dates import format_datetime, format_day


@click.group()
def meeting() -> None:
    """Flyt eller aflys et møde eller en workshop; de inviterede får kalenderopdateringen."""


@meeting.command("move")
@click.argument("stage")
@click.option(
    "--event", "event_id", default=None, help="Workshoppens id (fasens eneste møde: ingen)."
)
@click.option("--to", "to", default=None, help="Nyt tidspunkt, fx 2022-06-22T14:00 (dansk tid).")
@click.option("--location", default=None, help="Nyt sted.")
@click.option("--reason", required=True)
@click.option("--process", "key", default=None)
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def meeting_move(
    app: App,
    key: str | None,
    stage: str,
    event_id: str | None,
    to: str | None,
    location: str | None,
    reason: str,
    at_: str | None,
    actor: str,
) -> None:
    """Flyt et møde (tid og/eller sted); alt, der regnes fra mødet, flytter med."""
    ev = app.service().move_meeting(
        app.only_key(key), stage, event_id, to=to, location=location, at=parse_at(at_), actor=actor,
        reason=reason,
    )  # fmt: skip
    what = "udsat" if ev.status == "postponed" else "flyttet"
    console.print(
        f"»{ev.title}« er {what} til {format_datetime(ev.start)}, {ev.location} "
        f"(kalenderens SEQUENCE {ev.sequence}); de inviterede får en opdatering."
    )


@meeting.command("cancel")
@click.argument("stage")
@click.option(
    "--event", "event_id", default=None, help="Workshoppens id (fasens eneste møde: ingen)."
)
@click.option("--reason", required=True)
@click.option("--process", "key", default=None)
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def meeting_cancel(
    app: App,
    stage: str,
    event_id: str | None,
    reason: str,
    key: str | None,
    at_: str | None,
    actor: str,
) -> None:
    """Aflys et møde; de inviterede får en aflysning (METHOD:CANCEL)."""
    ev = app.service().move_meeting(
        app.only_key(key), stage, event_id, to=None, location=None, cancel=True, at=parse_at(at_),
        actor=actor, reason=reason,
    )  # fmt: skip
    console.print(f"»{ev.title}« er aflyst; de inviterede får en aflysning.")


@click.group()
def stage() -> None:
    """En fase for alle parter."""


@stage.command("deadline")
@click.argument("stage_id", metavar="STAGE")
@click.option("--to", "to", required=True, help="Den nye frist, ÅÅÅÅ-MM-DD.")
@click.option("--reason", required=True)
@click.option("--process", "key", default=None)
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def stage_deadline(
    app: App, stage_id: str, to: str, reason: str, key: str | None, at_: str | None, actor: str
) -> None:
    """Flyt fasens frist for alle; de, der ikke har svaret, får besked om den nye frist."""
    day = parse_date(to)
    got = app.service().move_deadline(
        app.only_key(key), stage_id, day, at=parse_at(at_), actor=actor, reason=reason
    )
    console.print(
        f"Fristen for {stage_id} er nu {format_day(day)}: {len(got['told'])} parter får besked "
        f"om den nye frist, {len(got['answered'])} har svaret (ingen mail)"
        + (f", {len(got['extended'])} beholder deres forlængede frist" if got["extended"] else "")
        + "."
    )
