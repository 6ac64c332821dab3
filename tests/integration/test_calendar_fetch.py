"""Fetching a council's ``.ics`` from its address, against a real HTTP server on loopback:
the calendar icalendar wrote comes back byte for byte; an address that is not http(s), that
nobody answers, that answers 404, too slowly or with too much is one clear error each."""

from __future__ import annotations

import threading

import pytest

from aftaleflow.ics_fetch import CalendarFetchError, fetch_ics
from tests.integration.ics_server import Served, closed_port, ics_server
from tests.unit.test_councils_ics import byraad_ics
from workflow.councils_ics import meetings_from_ics


def test_the_calendar_comes_back_as_written() -> None:
    ics = byraad_ics()
    with ics_server({"/aalborg/byraad.ics": Served(ics)}) as server:
        data = fetch_ics(f"{server.url}/aalborg/byraad.ics")
    assert data == ics
    assert len(meetings_from_ics(data, 2022)) == 11  # monthly, no July (EXDATE), one moved


def test_every_failure_is_one_clear_error_in_danish_and_english() -> None:
    hold = threading.Event()
    big = b"BEGIN:VCALENDAR\r\n" + b"X" * 2048
    paths = {
        "/big.ics": Served(big),  # announced too big: refused before reading
        "/stream.ics": Served(big, length=False),  # no length: stops reading at the limit
        "/slow.ics": Served(byraad_ics(), hold=hold),
    }
    with ics_server(paths) as server:
        cases = [
            (f"{server.url}/missing.ics", {}, "svarede med fejl 404", "answered with error 404"),
            (f"{server.url}/big.ics", {"limit": 1024}, "er større end", "is larger than"),
            (f"{server.url}/stream.ics", {"limit": 1024}, "er større end", "is larger than"),
            (
                f"{server.url}/slow.ics",
                {"timeout": 0.3},
                "kan ikke hentes: intet svar inden for 0.3 sekunder",
                "no answer within 0.3 seconds",
            ),
            (
                f"http://127.0.0.1:{closed_port()}/moeder.ics",
                {},
                "kan ikke hentes",
                "cannot be fetched",
            ),
            ("file:///etc/passwd", {}, "er ikke en http- eller https-adresse", "not an http"),
            ("ftp://kommune.example/x.ics", {}, "er ikke en http- eller https-adresse", "http"),
        ]
        for url, options, da, en in cases:
            with pytest.raises(CalendarFetchError) as caught:
                fetch_ics(url, **options)  # type: ignore[arg-type]
            assert da in str(caught.value), (url, str(caught.value))
            assert en in caught.value.text("en"), (url, caught.value.text("en"))
        hold.set()
    assert "/stream.ics" in server.requests and "/big.ics" in server.requests
