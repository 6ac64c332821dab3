"""A council's ``.ics`` mødeplan fetched from its address (``aftaleflow calendar import --url``).

Councils publish their calendars as a feed (a CMS, Outlook, a Google calendar). The fetch is
the only network I/O of the import: http or https only, a timeout, and a size limit (a
mødeplan is a few kilobytes; a page or a file that goes on and on is refused before it fills
the memory). Every failure is one ``CalendarFetchError`` that says, in Danish with an English
twin, what went wrong: the address cannot be reached, it answers with an error, the answer is
too big. Whether the answer is a calendar at all is ``workflow.councils_ics``'s question.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from workflow.errors import AftaleflowError

#: Seconds to wait for the address to connect and to answer (each read).
FETCH_TIMEOUT = 20.0
#: The most a calendar may weigh: a council's year is some kilobytes; 5 MB is any real feed.
FETCH_LIMIT = 5 * 1024 * 1024
USER_AGENT = "Aftaleflow (mødeplan-import)"


class CalendarFetchError(AftaleflowError):
    """The calendar's address cannot be fetched; the message says why."""


def fetch_ics(url: str, *, timeout: float = FETCH_TIMEOUT, limit: int = FETCH_LIMIT) -> bytes:
    """The body of ``url`` (http or https), at most ``limit`` bytes, within ``timeout``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CalendarFetchError(
            f"{url} er ikke en http- eller https-adresse; skriv fx https://kommune.example/moeder.ics",
            en=f"{url} is not an http or https address; write e.g. https://kommune.example/moeder.ics",
        )
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            size = response.headers.get("Content-Length")
            if size and size.isdigit() and int(size) > limit:
                raise _too_big(url, limit)
            data: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as e:
        raise CalendarFetchError(
            f"{url} svarede med fejl {e.code} ({e.reason}); tjek adressen",
            en=f"{url} answered with error {e.code} ({e.reason}); check the address",
        ) from None
    except TimeoutError:
        raise _no_answer(url, timeout) from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            raise _no_answer(url, timeout) from None
        why = e.reason if isinstance(e.reason, str) else getattr(e.reason, "strerror", None)
        raise _unreachable(url, str(why or e.reason), str(why or e.reason)) from None
    except OSError as e:
        raise _unreachable(url, e.strerror or str(e), e.strerror or str(e)) from None
    if len(data) > limit:
        raise _too_big(url, limit)
    return data


def _unreachable(url: str, why: str, why_en: str) -> CalendarFetchError:
    return CalendarFetchError(
        f"{url} kan ikke hentes: {why}; tjek adressen og netforbindelsen",
        en=f"{url} cannot be fetched: {why_en}; check the address and the network",
    )


def _no_answer(url: str, timeout: float) -> CalendarFetchError:
    return _unreachable(
        url, f"intet svar inden for {timeout:g} sekunder", f"no answer within {timeout:g} seconds"
    )


def _too_big(url: str, limit: int) -> CalendarFetchError:
    mb = limit / (1024 * 1024)
    return CalendarFetchError(
        f"{url} er større end {mb:g} MB; det er ikke en mødeplan",
        en=f"{url} is larger than {mb:g} MB; that is not a meeting plan",
    )
