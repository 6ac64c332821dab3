"""The ``aftaleflow`` command line: the secretariat's tool and the operator's.

Every command reads its settings here (``AFTALEFLOW_*``) and hands values down. Errors are
printed as one clear message and a non-zero exit code; no traceback reaches the user.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from sqlalchemy.exc import DBAPIError

from aftaleflow.cli_calendar import calendar, print_date_report
from aftaleflow.cli_common import YEAR, App, console, err, pass_app
from aftaleflow.cli_contacts import contact
from aftaleflow.cli_documents import document, link
from aftaleflow.cli_inbox import inbox
from aftaleflow.cli_mail import outbox, send
from aftaleflow.cli_message import mail
from aftaleflow.cli_migrate import migrate
from aftaleflow.cli_moves import meeting, stage
from aftaleflow.cli_process import diagram, simulate, start, status, tick
from aftaleflow.cli_record import exempt, extend, record
from aftaleflow.cli_users import user
from aftaleflow.config import from_env
from workflow.errors import AftaleflowError, DefinitionError
from workflow.loader import check_file, is_process_file, load_bundle
from workflow.storage.db import describe_failure


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
                print_date_report(load_bundle(f, reference_year=year), year)
    if bad:
        click.echo(f"{bad} af {len(files)} fil(er) har fejl", err=True)
        sys.exit(1)


# The commands live in their own modules, by what they do; the group lists them by name.
for _command in (start, tick, status, simulate, diagram, record, extend, exempt, document, link):
    cli.add_command(_command)
for _command in (outbox, send, user, calendar, inbox, mail, meeting, stage, contact, migrate):
    cli.add_command(_command)


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
