"""Varied answers from all twelve parties of the 2022 cycle, and the figures they must give.

Shared by the unit tests of ``workflow.synthesis`` (no database) and the integration tests
that submit them through the engine and read the report, the PDF, the DOCX and the XLSX.
Region Nordjylland answers late in the integration tests.
"""

from __future__ import annotations

from typing import Any

from tests.browser.support import AFTER_DEADLINE, BEFORE_DEADLINE, KEY, QUESTIONNAIRE, SECRET
from workflow.service import Service
from workflow.storage.db import Database

PARTIES = [
    "aalborg",
    "bronderslev",
    "frederikshavn",
    "hjorring",
    "jammerbugt",
    "laeso",
    "mariagerfjord",
    "morso",
    "rebild",
    "thisted",
    "vesthimmerland",
    "region-nordjylland",
]
LATE = "region-nordjylland"

_SCALE = dict(zip(PARTIES, [5, 4, 3, 3, 5, 2, 3, 5, 4, 3, 3, 5], strict=True))
_PRIORITY = {
    **dict.fromkeys(
        ["hjorring", "laeso", "morso", "thisted", "vesthimmerland"], "den-gode-alderdom"
    ),
    **dict.fromkeys(
        ["aalborg", "bronderslev", "frederikshavn", "jammerbugt", "region-nordjylland"],
        "socialpsykiatri",
    ),
    **dict.fromkeys(["mariagerfjord", "rebild"], "effektive-loesninger"),
}
_WIDEN = {**dict.fromkeys(PARTIES, "ja"), "laeso": "nej"} | dict.fromkeys(
    ["morso", "rebild", "thisted"], "ved-ikke"
)
_ARROWS = {
    "aalborg": ["staa-sammen", "borgeren-for-bordenden", "tidlig-indsats"],
    "bronderslev": ["tidlig-indsats"],
    "frederikshavn": ["mod-til-at-fejle", "tidlig-indsats"],
    "hjorring": ["selvhjulpen", "tidlig-indsats"],
    "jammerbugt": ["borgeren-for-bordenden"],
    "laeso": ["staa-sammen"],
    "mariagerfjord": ["selvhjulpen", "tidlig-indsats"],
    "morso": ["borgeren-for-bordenden", "tidlig-indsats"],
    "rebild": ["mod-til-at-fejle"],
    "thisted": ["tidlig-indsats"],
    "vesthimmerland": ["selvhjulpen", "borgeren-for-bordenden"],
    "region-nordjylland": ["forfoelge-oensker", "tidlig-indsats"],
}
_ELDERLY = {
    "aalborg": ["tidlig-opsporing-demens", "viso-light"],
    "laeso": ["refusion-over-67"],
    "morso": ["tidlig-opsporing-demens"],
}
_SHARING = {"aalborg": "5", "thisted": "5", "region-nordjylland": "4"}
TEXTS = {
    "aalborg": '=HYPERLINK("http://evil.example","klik") Fælles akutpladser, tak',
    "laeso": "Husk øerne: <script>window.__xss = 1</script>",
    "region-nordjylland": "Snitfladen til behandlingspsykiatrien skal med.",
}


def answer(party: str) -> dict[str, Any]:
    """The answer of ``party`` as a form would give it (a scale as text)."""
    data: dict[str, Any] = {
        "vision-egenmestring": str(_SCALE[party]),
        "vision-retningspile": _ARROWS[party],
        "fokusomraader-prioritet": _PRIORITY[party],
        "udvidelse-forebyggelse": _WIDEN[party],
    }
    if party in _ELDERLY:
        data["alderdom-initiativer"] = _ELDERLY[party]
    if party in _SHARING:
        data["specialviden-deling"] = _SHARING[party]
    if party in TEXTS:
        data["oevrige-oensker"] = TEXTS[party]
    return data


#: Per choice question: option value -> (count, rank).
CHOICES = {
    "fokusomraader-prioritet": {
        "den-gode-alderdom": (5, 1),
        "socialpsykiatri": (5, 1),
        "effektive-loesninger": (2, 3),
    },
    "udvidelse-forebyggelse": {"ja": (8, 1), "ved-ikke": (3, 2), "nej": (1, 3)},
    "vision-retningspile": {
        "tidlig-indsats": (8, 1),
        "borgeren-for-bordenden": (4, 2),
        "selvhjulpen": (3, 3),
        "staa-sammen": (2, 4),
        "mod-til-at-fejle": (2, 4),
        "forfoelge-oensker": (1, 6),
    },
    "alderdom-initiativer": {
        "tidlig-opsporing-demens": (2, 1),
        "viso-light": (1, 2),
        "refusion-over-67": (1, 2),
        "neuropaedagogik": (0, 4),
        "tilbudsvifte-aeldre": (0, 4),
    },
}
#: Per scale question: (answered, distribution low to high, mean, median).
SCALES = {
    "vision-egenmestring": (12, [0, 1, 5, 2, 4], 3.75, 3.5),
    "specialviden-deling": (3, [0, 0, 0, 1, 2], 14 / 3, 5.0),
}


def submit_varied(db: Database) -> None:
    """Every party's answer through the engine, on 19 May 2022; Region Nordjylland's late,
    on 24 May (after the deadline of 20 May)."""
    service = Service(db, link_secret=SECRET)
    for party in PARTIES:
        at = AFTER_DEADLINE if party == LATE else BEFORE_DEADLINE
        service.submit_answer(KEY, QUESTIONNAIRE, party, answer(party), at=at, actor=party)
