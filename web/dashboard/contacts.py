"""A party's contacts per role, as live data (``workflow.contact_changes``): the contacts page
lists them (deactivated ones too, failing addresses flagged), and an admin adds, replaces and
deactivates them, each with a reason (audited). Clearing a failing mark on an address (after a
bounce the address stays failing, and mail to it paused, until the secretariat has checked it,
``workflow.contacts.clear_failing``) sends the paused mail at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, url_for

from web.dashboard import forms, reads
from web.dashboard.actions import Action, Page, action_context, handle, service
from web.dashboard.auth import admin_only, the_user
from web.dashboard.blueprint import bp
from web.dashboard.texts import dt
from web.i18n import lang
from web.state import state
from workflow.contact_book import ContactBook, ContactEntry
from workflow.contact_changes import ContactChange
from workflow.contacts import clear_failing
from workflow.dates import format_sending
from workflow.definition_parties import ROLES


@dataclass(frozen=True)
class RoleContacts:
    role: str
    entries: list[tuple[ContactEntry, str]]  # the contact, why its address is failing or ""
    active: int


def _book(key: str) -> ContactBook:
    return service().contacts.book(key).book


def _page(key: str, party: str) -> str:
    return url_for("dashboard.contacts", key=key, party=party)


@bp.get("/proces/<key>/part/<party>/kontakter")
def contacts(key: str, party: str) -> str:
    with state().db.sessions() as s:
        row, bound = reads.process_or_404(s, key)
        who = reads.party_or_404(bound, party)
        failing = reads.failing_addresses(s)
    book = _book(key)
    roles = []
    for role in ROLES:
        entries = book.entries(party, role)
        lines = [(e, failing.get(e.address.lower(), "") if e.active else "") for e in entries]
        lines.sort(key=lambda line: not line[0].active)  # the active ones first
        roles.append(RoleContacts(role, lines, sum(1 for e in entries if e.active)))
    return render_template("dashboard/contacts.html", row=row, party=who, roles=roles)


def _role_or_404(role: str) -> str:
    if role not in ROLES:
        abort(404)
    return role


def _active_or_404(key: str, party: str, role: str, address: str) -> ContactEntry:
    for e in _book(key).active(party, role):
        if e.same_address(address):
            return e
    abort(404)


def _done(change: ContactChange, ctx: dict[str, Any], old_revoked: bool) -> str:
    """The success message: the change, the mails re-addressed, the invitations re-issued."""
    role = dt(f"role_{change.role}").lower()
    party = ctx["party"].name
    words = {"address": change.address, "role": role, "party": party, "old": change.old_address}
    parts = [dt(f"done_contact_{change.kind}", **words)]
    if change.readdressed:
        parts.append(dt("done_contact_readdressed", n=change.readdressed))
    at = state().now()
    names = {b.id: b.definition.name for b in ctx["bound"].stages}
    for r in change.reissued:
        name = names.get(r.stage, r.stage)  # another process's stage, if it is not this one's
        when = format_sending(r.sends_at, at, lang())
        parts.append(dt("done_contact_reissued", stage=name, generation=r.generation, when=when))
    if change.reissued and change.kind == "replaced":
        parts.append(dt("done_contact_old_revoked" if old_revoked else "done_contact_old_kept"))
    return " ".join(parts)


@bp.route("/proces/<key>/part/<party>/kontakter/<role>/tilfoej", methods=["GET", "POST"])
@admin_only
def add_contact(key: str, party: str, role: str) -> Page:
    ctx = action_context(key, party=party)
    ctx["facts"].append(("role", dt(f"role_{_role_or_404(role)}")))
    form = forms.ContactAddForm()

    def run() -> str:
        change = service().contacts.add(
            key,
            party,
            role,
            name=form.contact_name.data,
            address=form.contact_email.data,
            at=state().now(),
            actor=the_user().actor,
            reason=form.reason.data,
            now=bool(form.now.data),
        )
        return _done(change, ctx, False)

    title = dt("title_add_contact")
    back = _page(key, party)
    return handle(
        form, Action(title, ctx["facts"], back, title, intro=dt("add_contact_intro")), run
    )


@bp.route("/proces/<key>/part/<party>/kontakter/<role>/erstat/<address>", methods=["GET", "POST"])
@admin_only
def replace_contact(key: str, party: str, role: str, address: str) -> Page:
    ctx = action_context(key, party=party)
    old = _active_or_404(key, party, _role_or_404(role), address)
    ctx["facts"] += [("role", dt(f"role_{role}")), ("name", old.name), ("email", old.address)]
    form = forms.ContactReplaceForm()

    def run() -> str:
        revoke = bool(form.revoke_old.data)
        change = service().contacts.replace(
            key,
            party,
            role,
            old.address,
            name=form.contact_name.data,
            address=form.contact_email.data,
            at=state().now(),
            actor=the_user().actor,
            reason=form.reason.data,
            revoke_old=revoke,
            now=bool(form.now.data),
        )
        return _done(change, ctx, revoke)

    title = dt("title_replace_contact")
    action = Action(
        title, ctx["facts"], _page(key, party), title, intro=dt("replace_contact_intro")
    )
    return handle(form, action, run)


@bp.route(
    "/proces/<key>/part/<party>/kontakter/<role>/deaktiver/<address>", methods=["GET", "POST"]
)
@admin_only
def deactivate_contact(key: str, party: str, role: str, address: str) -> Page:
    ctx = action_context(key, party=party)
    old = _active_or_404(key, party, _role_or_404(role), address)
    ctx["facts"] += [("role", dt(f"role_{role}")), ("name", old.name), ("email", old.address)]
    form = forms.ReasonForm()

    def run() -> str:
        change = service().contacts.deactivate(
            key,
            party,
            role,
            old.address,
            at=state().now(),
            actor=the_user().actor,
            reason=form.reason.data,
        )
        return _done(change, ctx, False)

    title = dt("title_deactivate_contact")
    intro = dt("deactivate_contact_intro")
    return handle(form, Action(title, ctx["facts"], _page(key, party), title, intro=intro), run)


@bp.route("/proces/<key>/part/<party>/ryd-adresse/<address>", methods=["GET", "POST"])
@admin_only
def clear_address(key: str, party: str, address: str) -> Page:
    ctx = action_context(key, party=party)
    book = _book(key)
    known = {e.address.lower() for role in ROLES for e in book.entries(party, role)}
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
