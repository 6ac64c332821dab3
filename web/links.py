"""Resolving the personal link of a request, with the rate limit on misses.

Every way a token can fail (malformed, unknown, revoked, re-issued, expired) ends in the
same plain 404 and counts as one miss for the client's address.
"""

from __future__ import annotations

from flask import abort
from werkzeug.exceptions import TooManyRequests

from web.security import client_address
from web.state import state
from workflow.link_target import LinkNotFound, Target


def resolve_link(token: str, *, kind: str, mark_opened: bool = True) -> Target:
    """The link's target, or 404 (also for a link of the other ``kind``), or 429."""
    st = state()
    address = client_address()
    if st.limiter.blocked(address):
        raise TooManyRequests(retry_after=st.limiter.retry_after(address))
    now = st.now()
    try:
        target = st.responses.resolve(token, now, via=_logged_in())
        if target.kind != kind:
            raise LinkNotFound()
    except LinkNotFound:
        st.limiter.miss(address)
        abort(404)
    if mark_opened and target.opened_at is None:
        target = st.responses.open(token, now, via=target.via)
    return target


def _logged_in() -> str:
    """The secretariat user logged in to the dashboard in this browser, if any: what they do
    through a party's link is logged under their name as well as the link's."""
    from web.dashboard.auth import current_user  # the dashboard's session, read only here

    user = current_user()
    return user.name if user is not None else ""
