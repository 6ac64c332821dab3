"""Clearing a failing mark on a party's address (admin, with a reason; audited): after a
bounce the address stays failing, and mail to it paused, until the secretariat has checked it
(``workflow.contacts.clear_failing``); the paused mail is then sent at once."""

from __future__ import annotations

from flask import abort, url_for

from web.dashboard import forms
from web.dashboard.actions import Action, Page, action_context, handle
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.party import ROLES
from web.dashboard.texts import dt
from web.state import state
from workflow.contacts import clear_failing


@bp.route("/proces/<key>/part/<party>/ryd-adresse/<address>", methods=["GET", "POST"])
@admin_only
def clear_address(key: str, party: str, address: str) -> Page:
    ctx = action_context(key, party=party)
    known = {c.email.lower() for role in ROLES for c in ctx["party"].addresses(role)}
    if address.lower() not in known:
        abort(404)
    ctx["facts"].append(("email", address))
    form = forms.ReasonForm()

    def run() -> str:
        n = clear_failing(
            state().db, address, at=state().now(), actor=the_user().actor, reason=form.reason.data
        )
        return dt("done_clear_failing", address=address, n=n)

    return handle(
        form,
        Action(
            dt("act_clear_failing"),
            ctx["facts"],
            url_for("dashboard.party", key=key, party=party) + "#contacts",
            dt("act_clear_failing"),
            intro=dt("clear_failing_intro"),
        ),
        run,
    )
