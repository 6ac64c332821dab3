"""AFTALEFLOW_IMAP_URL: read and checked once, with one clear message when it is wrong."""

from __future__ import annotations

import pytest

from notifications.inbox import ImapConfig, InvalidImapUrl
from workflow.errors import AftaleflowError


def test_imaps_with_folder_and_options() -> None:
    c = ImapConfig.parse(
        "imaps://kkr%40nord.example:p%C3%A5ss%3Aw@imap.nord.example/Svar?processed=Arkiv/Behandlet&timeout=5"
    )
    assert (c.host, c.port, c.security, c.username, c.password) == (
        "imap.nord.example", 993, "ssl", "kkr@nord.example", "påss:w",
    )  # fmt: skip
    assert (c.folder, c.processed, c.timeout) == ("Svar", "Arkiv/Behandlet", 5.0)
    assert c.description == "imaps://kkr@nord.example@imap.nord.example:993/Svar"
    assert "påss" not in repr(c)


def test_starttls_and_defaults() -> None:
    c = ImapConfig.parse("imap://u:p@imap.nord.example?starttls=1")
    assert (c.port, c.security, c.folder, c.processed) == (143, "starttls", "INBOX", "Behandlet")
    assert ImapConfig.parse("imap://u:p@127.0.0.1:1143/INBOX").security == "plain"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("pop3://u:p@h/INBOX", "skal begynde med imaps:// eller imap://"),
        ("imaps:///INBOX", "mangler en vært"),
        ("imaps://imap.nord.example/INBOX", "skal have bruger og adgangskode"),
        ("imaps://u@imap.nord.example/INBOX", "skal have bruger og adgangskode"),
        ("imap://u:p@imap.nord.example/INBOX", "ville sende adgangskoden ukrypteret"),
        ("imaps://u:p@h/INBOX?starttls=1", "TLS fra starten"),
        ("imaps://u:p@h/INBOX?folder=x", "indstilling(er) folder"),
        ("imaps://u:p@h/INBOX?timeout=soon", "timeout skal være sekunder"),
        ("imaps://u:p@h/INBOX?processed=INBOX", "skal have et navn og være en anden"),
        ("imaps://u:p@h:99999/INBOX", "er ikke en webadresse"),
    ],
)
def test_wrong_urls_say_what_is_wrong_without_the_password(url: str, says: str) -> None:
    with pytest.raises(InvalidImapUrl) as caught:
        ImapConfig.parse(url)
    assert says in str(caught.value)
    assert isinstance(caught.value, AftaleflowError)
    assert ":p@" not in str(caught.value)
