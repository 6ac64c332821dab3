"""A party signs its participants up for a workshop: ``/tilmeld/<token>``.

GET shows the workshop, the party's own participants (each with a cancel button) and a form
of blank rows (name, role, e-mail). "Tilføj en række mere" is a submit button that re-shows the
form with one more row and everything typed, so no JavaScript is needed. A refused post
re-shows everything typed with an error summary; nothing is saved. A post that works
redirects (post/redirect/get) with a message saying who got a seat and who is waiting.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, flash, get_flashed_messages, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from web.formatting import format_datetime
from web.i18n import lang, t
from web.security import client_address, csrf
from web.signup_texts import st
from web.state import state
from workflow.errors import ConcurrentUpdate, GuardRefused, NotFound
from workflow.link_target import LinkNotFound
from workflow.workshop_service import SignupTarget, Workshops
from workflow.workshops import CONFIRMED, Participant, participant_issues

bp = Blueprint("signup", __name__)
csrf.exempt(bp)

BLANK_ROWS = 3
MAX_ROWS = 20
FIELDS = ("name", "role", "email")
Row = dict[str, str]


def workshops() -> Workshops:
    return Workshops(state().responses.service)


def resolve(token: str) -> SignupTarget:
    """The link's party and workshop, or 404 (forged, unknown, expired), or 429."""
    web = state()
    address = client_address()
    if web.limiter.blocked(address):
        raise TooManyRequests(retry_after=web.limiter.retry_after(address))
    try:
        return workshops().resolve(token, web.now())
    except LinkNotFound:
        web.limiter.miss(address)
        abort(404)


@bp.get("/tilmeld/<token>")
def page(token: str) -> str:
    target = resolve(token)
    return render(target, [_blank() for _ in range(BLANK_ROWS)], {})


@bp.post("/tilmeld/<token>")
def post(token: str) -> Response | tuple[str, int]:
    target = resolve(token)
    rows = _rows(request.form)
    try:
        csrf.protect()
    except CSRFError:
        return render(target, rows, {}, top=[t("err_csrf")]), 400
    now = state().now()
    if request.form.get("action") == "add_row":
        return render(target, [*rows, _blank()][:MAX_ROWS], {}), 200
    if not target.can_sign_up(now):
        return render(target, rows, {}, top=[_closed_text(target)]), 409
    people, errors, top = _checked(target, rows)
    if errors or top:
        return render(target, rows, errors, top=top), 422
    try:
        statuses = workshops().sign_up(target, people, at=now)
    except (GuardRefused, NotFound) as exc:
        return render(target, rows, {}, top=[st("err_refused", reason=exc.text(lang()))]), 409
    except ConcurrentUpdate:
        return render(target, rows, {}, top=[st("err_busy")]), 409
    confirmed = statuses.count(CONFIRMED)
    waiting = len(statuses) - confirmed
    flash(st("signup_done", confirmed=confirmed, waiting=waiting), "signup")
    if waiting:
        flash(st("signup_done_full", waiting=waiting), "signup")
    return redirect(request.path, 303)


@bp.post("/tilmeld/<token>/afmeld")
def cancel(token: str) -> Response | tuple[str, int]:
    target = resolve(token)
    try:
        csrf.protect()
        seq = int(request.form.get("seq", ""))
    except CSRFError:
        return render(target, [_blank()], {}, top=[t("err_csrf")]), 400
    except ValueError:
        abort(404)
    mine = {r.seq: r.name for r in workshops().party_list(target)}
    if seq not in mine:
        abort(404)
    try:
        moved = workshops().cancel(target, seq, at=state().now())
    except (GuardRefused, NotFound) as exc:
        refused = st("err_cancel_refused", reason=exc.text(lang()))
        return render(target, [_blank()], {}, top=[refused]), 409
    except ConcurrentUpdate:
        return render(target, [_blank()], {}, top=[st("err_busy")]), 409
    flash(st("signup_cancelled", name=mine[seq]), "signup")
    if moved is not None:
        flash(st("signup_moved_up"), "signup")
    return redirect(request.path.removesuffix("/afmeld"), 303)


def _blank() -> Row:
    return dict.fromkeys(FIELDS, "")


def _rows(form: Mapping[str, str]) -> list[Row]:
    """The rows as typed (trimmed), at most ``MAX_ROWS``."""
    try:
        count = min(max(int(form.get("rows", BLANK_ROWS)), 1), MAX_ROWS)
    except ValueError:
        count = BLANK_ROWS
    return [
        {f: " ".join(str(form.get(f"{f}-{i}", "")).split()) for f in FIELDS} for i in range(count)
    ]


def _checked(
    target: SignupTarget, rows: list[Row]
) -> tuple[list[Participant], dict[str, str], list[str]]:
    """The participants of the filled rows, and what is wrong (by field id), if anything."""
    people: list[Participant] = []
    errors: dict[str, str] = {}
    taken = workshops().taken_addresses(target)
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if not any(row.values()):
            continue
        p = Participant(row["name"], row["role"], row["email"])
        issues = participant_issues(p)
        email = p.email.lower()
        if "email" not in issues and (email in taken or email in seen):
            issues["email"] = "email_twice"
        seen.add(email)
        for field, key in issues.items():
            errors[f"{field}-{i}"] = st(f"err_{key}")
        people.append(p)
    top = [] if people or errors else [st("err_nobody")]
    return people, errors, top


def _closed_text(target: SignupTarget) -> str:
    if not target.stage_open:
        return st("signup_stage_closed")
    return st("signup_closed", deadline=format_datetime(target.window.deadline, lang()))


def render(
    target: SignupTarget, rows: list[Row], errors: dict[str, str], *, top: list[str] | None = None
) -> str:
    now = state().now()
    mine = workshops().party_list(target)
    everyone = workshops().confirmed_count(target)
    summary = [
        {"anchor": field, "label": st("signup_person", n=int(field.rsplit("-", 1)[1]) + 1),
         "message": message}
        for field, message in errors.items()
    ]  # fmt: skip
    return render_template(
        "signup.html",
        st=st,
        target=target,
        window=target.window,
        mine=mine,
        waiting_numbers=workshops().waiting_numbers(target),
        free=max(target.window.rules.capacity - everyone, 0),
        rows=rows,
        errors=errors,
        summary=summary,
        top=top or [],
        done=get_flashed_messages(category_filter=["signup"]),
        can_sign_up=target.can_sign_up(now),
        can_cancel=target.can_cancel(now),
        closed_text="" if target.can_sign_up(now) else _closed_text(target),
    )
