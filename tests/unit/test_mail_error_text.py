"""A mail held back by a bounce says so in the page's language, not as the stored marker."""

from __future__ import annotations

from flask import Flask, g

from web.dashboard.templating import mail_error
from workflow.contacts import PAUSED


def test_a_paused_mail_reads_as_a_sentence_in_danish_and_english() -> None:
    app = Flask(__name__)
    app.config["AFTALEFLOW_LANGUAGE"] = "da"
    stored = f"{PAUSED} udvalg@morso.example (bounce: 5.1.10 RecipientNotFound)"
    with app.test_request_context():
        shown = mail_error(stored)
        assert shown.startswith("Sat i bero: en returmail har markeret modtageren som fejlende")
        assert "udvalg@morso.example (bounce: 5.1.10 RecipientNotFound)" in shown
        assert "paused:" not in shown
        assert mail_error("550 5.1.1 no such user") == "550 5.1.1 no such user"
        g.lang = "en"
        assert mail_error(stored).startswith("On hold: a bounce marked the recipient failing")
