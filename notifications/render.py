"""Outbox row data → subject, plain text, HTML and attachments. Pure: no I/O but the templates.

Templates live in ``templates/<lang>/<kind>.txt`` (with a ``subject`` block) and
``templates/<lang>/<kind>.html``; HTML is autoescaped, the text part is written by hand.
The language is ``settings.language`` unless the row's context has a ``language`` key.

Every context has the keys ``workflow.service._enqueue`` writes (process_id, title, stage_name,
party_name, step, secretariat{name,email}, planned_at, …). Beyond those, each kind reads:

- invitation: deadline (ISO date), link{generation}, accept_late
- reminder: deadline, n, working_days_left, working_days_late, reminds, link{generation}
- escalation: deadline, working_days_late, committee[{name,email}]
- approval_request: deadline, link{generation}, body (socialudvalg|byraad|regionsraad),
  document{version, filename, sha256} (the version up for approval; downloaded via the link)
- meeting_invitation: event{id,title,start,end (ISO, aware),location,sequence,method}
- submission: recipient, approvals[{party, party_name?, step, decision|status, meeting_date,
  agenda_item, decision_text, minutes}], optional agreement{url}, party_names{slug: name}
- rejection: decision_text (step names the body)
- receipt: answers[{label (or question), answer (text or list)}], optional submitted_at (ISO),
  late, deadline and link{generation} (then the mail links back to edit the answer)
- forum_report: link{generation, page}, source_name, event{title,start,end,location}
- digest: counts{label: number}, overdue[{party_name, stage_name, deadline,
  working_days_late}], next_mails[{kind, party_name, send_after (ISO)}], optional week
- meeting_invitation of a workshop that takes sign-ups: also link{generation, path} and
  signup{capacity, deadline (ISO)}: the party's sign-up link (``workflow.workshops``)
- workshop_confirmation, workshop_waiting: event, participant{name, role}, promoted (moved up
  from the waiting list); the confirmation carries the workshop's calendar file
- workshop_signup_reminder: event, link{generation, path}, signup{capacity, deadline}
- workshop_below_minimum: event, confirmed, minimum, capacity, signup{deadline}
- workshop_cancellation: event (method CANCEL), participant, was (confirmed|waiting): one who
  had a seat gets the calendar cancellation
- message (written by the secretariat, ``workflow.messages``): subject, text, files[{filename,
  sha256, media_type, size}] (attached from ``mail_files`` when the mail is claimed), author
- meeting_update: event (sequence raised; method CANCEL when cancelled), was{start,end,location},
  change (moved|postponed|cancelled): the calendar update to a meeting's invitees
- new_deadline: deadline, previous_deadline, link{generation}, body (an approval step): a
  stage's deadline moved for everyone, to a party that has not answered
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from notifications.forms import form_attachments
from notifications.ics import build_ics, ics_attachment
from notifications.outgoing import Attachment, OutgoingMail, RenderedMail
from notifications.templating import context_of, fast_escape, shared_globals
from workflow.dates import as_local, format_date, format_datetime, format_short, format_time
from workflow.errors import AftaleflowError
from workflow.links import token_of

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("da", "en")
KINDS = (
    "invitation", "reminder", "escalation", "receipt", "approval_request",
    "meeting_invitation", "submission", "rejection", "digest", "forum_report",
    "workshop_confirmation", "workshop_waiting", "workshop_signup_reminder",
    "workshop_below_minimum", "workshop_cancellation", "message", "meeting_update",
    "new_deadline",
)  # fmt: skip
#: Kinds whose mail carries the event's calendar file.
CALENDAR_KINDS = ("meeting_invitation", "workshop_confirmation", "meeting_update")

#: A body of an approval chain: (indefinite, definite, definite genitive).
BODIES: dict[str, dict[str, tuple[str, str, str]]] = {
    "da": {
        "socialudvalg": ("socialudvalg", "socialudvalget", "socialudvalgets"),
        "byraad": ("byråd", "byrådet", "byrådets"),
        "regionsraad": ("regionsråd", "regionsrådet", "regionsrådets"),
    },
    "en": {
        "socialudvalg": ("social committee", "the social committee", "the social committee's"),
        "byraad": ("municipal council", "the municipal council", "the municipal council's"),
        "regionsraad": ("regional council", "the regional council", "the regional council's"),
    },
}
KIND_LABELS = {
    "da": {
        "invitation": "invitation", "reminder": "påmindelse", "escalation": "eskalering",
        "receipt": "kvittering", "approval_request": "anmodning om godkendelse",
        "meeting_invitation": "mødeindkaldelse", "submission": "fremsendelse",
        "rejection": "afvisning", "digest": "statusoversigt", "forum_report": "rapport",
        "workshop_confirmation": "bekræftelse af tilmelding", "workshop_waiting": "venteliste",
        "workshop_signup_reminder": "påmindelse om tilmelding",
        "workshop_below_minimum": "for få tilmeldte", "workshop_cancellation": "afmelding",
        "message": "mail fra sekretariatet",
        "meeting_update": "mødeændring", "new_deadline": "ny frist",
    },
    "en": {
        "invitation": "invitation", "reminder": "reminder", "escalation": "escalation",
        "receipt": "receipt", "approval_request": "approval request",
        "meeting_invitation": "meeting invitation", "submission": "submission",
        "rejection": "rejection", "digest": "status digest", "forum_report": "report",
        "workshop_confirmation": "sign-up confirmation", "workshop_waiting": "waiting list",
        "workshop_signup_reminder": "sign-up reminder",
        "workshop_below_minimum": "too few sign-ups", "workshop_cancellation": "cancellation",
        "message": "mail from the secretariat",
        "meeting_update": "meeting change", "new_deadline": "new deadline",
    },
}  # fmt: skip
DECISIONS = {
    "da": {"approved": "Godkendt", "rejected": "Afvist", "postponed": "Udsat", "exempt": "Fritaget",
           "requested": "Afventer", "pending": "Afventer", "overdue": "Overskredet"},
    "en": {"approved": "Approved", "rejected": "Rejected", "postponed": "Postponed",
           "exempt": "Exempt", "requested": "Pending", "pending": "Pending", "overdue": "Overdue"},
}  # fmt: skip


class MailSettings(Protocol):
    """What rendering and sending need from ``aftaleflow.config.Settings``."""

    @property
    def base_url(self) -> str: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def mail_domain(self) -> str: ...
    @property
    def mail_from(self) -> str: ...


class RenderError(AftaleflowError):
    """A mail could not be rendered (unknown kind, missing context): retrying will not help."""


def one_line(text: object) -> str:
    """A header-safe single line: CR, LF and other whitespace runs become one space."""
    return " ".join(str(text).split())


def personal_url(base_url: str, secret: str, context: Mapping[str, Any]) -> str | None:
    """``/svar/<token>`` for a questionnaire task, ``/godkend/<token>`` for an approval step,
    the link's own ``page`` if it names one (``/rapport/<token>``: a meeting's report,
    ``/tilmeld/<token>``: a workshop's sign-up)."""
    token = token_of(secret, context)
    if token is None:
        return None
    step = str(context.get("step") or "")
    link = context.get("link")
    page = str(link.get("page") or "") if isinstance(link, Mapping) else ""
    return f"{base_url.rstrip('/')}/{page or ('godkend' if step else 'svar')}/{token}"


def days(n: object, lang: str = "da") -> str:
    count = int(n or 0)  # type: ignore[call-overload]
    if lang == "en":
        return f"{count} working day{'' if count == 1 else 's'}"
    return f"{count} arbejdsdag{'' if count == 1 else 'e'}"


def genitive(name: object, lang: str = "da") -> str:
    text = str(name)
    if lang == "en":
        return f"{text}'" if text.endswith("s") else f"{text}'s"
    return f"{text}'" if text[-1:].lower() in ("s", "x", "z") else f"{text}s"


@lru_cache(maxsize=256)  # a meeting's invitations to every party name the same period
def period(start: str, end: str, lang: str = "da") -> str:
    """``onsdag den 15. juni 2022 kl. 14.00–17.00``; spans over midnight name both days."""
    a, b = as_local(start), as_local(end)
    if a.date() == b.date():
        until = format_time(b, lang).removeprefix("kl. ")
        return f"{format_datetime(a, lang)}–{until}"
    return f"{format_datetime(a, lang)} – {format_datetime(b, lang)}"


@lru_cache(maxsize=1024)  # mails name the same few deadlines and meeting days
def _date_text(value: date | str, lang: str, weekday: bool) -> str:
    return format_date(value, lang, weekday=weekday)


#: What a plain dict has as attributes: Jinja's ``x.y`` finds these before the key ``y``.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _MailEnvironment(Environment):
    """Jinja's environment, reading ``x.y`` of a plain dict (every context value is one) by
    its key at once, where Jinja tries ``getattr`` first and fails: the same result."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    if lang not in LANGUAGES:
        raise RenderError(f"no mail templates for language {lang!r}; use one of {LANGUAGES}")
    env = _MailEnvironment(
        loader=FileSystemLoader(TEMPLATES / lang),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the code: no stat() of every template file on every mail,
        # and every one kept in a plain dict (-1: no LRU book-keeping per lookup, and a
        # template's ``{% extends %}`` looks its parent up on every render).
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["dato"] = lambda v, weekday=True: _date_text(v, lang, weekday)
    env.filters["datotid"] = lambda v: format_datetime(v, lang)
    env.filters["tidspunkt"] = lambda v: format_time(v, lang)
    env.filters["kort"] = format_short
    env.filters["genitiv"] = lambda v: genitive(v, lang)
    env.globals["days"] = lambda n: days(n, lang)
    # the HTML templates' macros (button, facts), made once rather than imported per mail
    env.globals["m"] = env.get_template("_macros.html").module
    return env


def _body(step: str, lang: str) -> dict[str, str]:
    names = BODIES[lang].get(step, (step, step, genitive(step, lang)))
    return {"indefinite": names[0], "definite": names[1], "genitive": names[2]}


def _answers(items: object) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in items if isinstance(items, Sequence) and not isinstance(items, str) else []:
        data: Mapping[str, Any] = item if isinstance(item, Mapping) else {"answer": item}
        label = data.get("label", data.get("question", ""))
        answer = data.get("answer", data.get("text", ""))
        if isinstance(answer, Sequence) and not isinstance(answer, str):
            answer = ", ".join(str(a) for a in answer)
        out.append({"label": str(label or ""), "answer": "" if answer is None else str(answer)})
    return out


def _approvals(context: Mapping[str, Any], lang: str) -> list[dict[str, str]]:
    names: Mapping[str, str] = context.get("party_names") or {}
    rows = []
    for a in context.get("approvals") or []:
        status = str(a.get("decision") or a.get("status") or "")
        rows.append(
            {
                "party_name": str(
                    a.get("party_name") or names.get(a.get("party", "")) or a.get("party", "")
                ),
                "body": _body(str(a.get("step") or ""), lang)["indefinite"],
                "decision": DECISIONS[lang].get(status, status),
                "meeting_date": format_date(a["meeting_date"], lang, weekday=False)
                if a.get("meeting_date")
                else "",
                "agenda_item": str(a.get("agenda_item") or ""),
                "decision_text": str(a.get("decision_text") or ""),
                "minutes": str(a.get("minutes") or ""),
            }
        )
    return rows


def _document_url(url: str | None, document: object) -> str:
    """The agreement version an approval mail names, through the council's personal link."""
    if not url or not isinstance(document, Mapping) or not document.get("version"):
        return ""
    return f"{url}/aftale/{int(document['version'])}"


def template_vars(mail: OutgoingMail, settings: MailSettings, lang: str) -> dict[str, Any]:
    """The variables every template sees: the row's context plus values derived from it."""
    ctx = dict(mail.context)
    step = str(ctx.get("step") or mail.step or "")
    body_step = str(ctx.get("body") or step)
    approvals = _approvals(ctx, lang) if mail.kind == "submission" else []
    url = personal_url(settings.base_url, settings.secret_key, ctx)
    event = ctx.get("event")
    secretariat = {"name": "", "email": "", **(ctx.get("secretariat") or {})}
    return {
        **ctx,
        "kind": mail.kind,
        "lang": lang,
        # Names are single lines everywhere, in the body as in the headers.
        "recipients": [{"name": one_line(r.name), "email": r.email} for r in mail.recipients],
        "secretariat": {**secretariat, "name": one_line(secretariat["name"])},
        "title": one_line(ctx.get("title") or "Aftaleflow"),
        "party_name": one_line(ctx.get("party_name") or ctx.get("party") or ""),
        "stage_name": one_line(ctx.get("stage_name") or ""),
        "body": _body(body_step, lang),
        "url": url,
        "dashboard_url": settings.base_url.rstrip("/") + "/",
        "answers": _answers(ctx.get("answers")),
        "approvals": approvals,
        "document": dict(ctx.get("document") or {}),
        "document_url": _document_url(url, ctx.get("document")),
        "approved_parties": len({a["party_name"] for a in approvals}),
        "when": period(event["start"], event["end"], lang) if isinstance(event, Mapping) else "",
        "was_when": _was_when(ctx.get("was"), lang),
        "kind_label": KIND_LABELS[lang],
        "approval": mail.kind == "approval_request"
        or ctx.get("reminds") == "approval_request"
        or (mail.kind == "new_deadline" and bool(ctx.get("body"))),
        "deadline": ctx.get("deadline") or "",
        "forms_attached": mail.kind == "invitation" and mail.questionnaire is not None,
    }


def _was_when(was: object, lang: str) -> str:
    """When a moved meeting was to be held (a ``meeting_update``'s ``was``)."""
    if not isinstance(was, Mapping) or "start" not in was:
        return ""
    return period(was["start"], was["end"], lang)


def render(mail: OutgoingMail, settings: MailSettings) -> RenderedMail:
    """Render one mail in the configured language (a context ``language`` key overrides it)."""
    lang = str(mail.context.get("language") or settings.language or "da")
    if mail.kind not in KINDS:
        raise RenderError(
            f"no template for mail kind {mail.kind!r}; known kinds: {', '.join(KINDS)}"
        )
    env = environment(lang)
    fast_escape(env)
    try:
        variables = template_vars(mail, settings, lang)
        pair = _TEMPLATES.get((lang, mail.kind))
        if pair is None:
            pair = _TEMPLATES[(lang, mail.kind)] = (
                env.get_template(f"{mail.kind}.txt"),
                env.get_template(f"{mail.kind}.html"),
            )
        text_t, html_t = pair
        # what both templates read: their globals and the variables, in ONE dict (Jinja
        # would copy both into a new one for each template)
        parent = {**shared_globals(text_t, html_t), **variables}
        # one context for the subject block and the text (a block sees what the text sees)
        text_ctx = context_of(text_t, parent)
        subject = one_line("".join(text_t.blocks["subject"](text_ctx)))
        parent["subject"] = text_ctx.vars["subject"] = subject
        text = "".join(text_t.root_render_func(text_ctx))
        html = "".join(html_t.root_render_func(context_of(html_t, parent)))
        attachments: list[Attachment] = list(mail.attachments)
        if mail.kind == "invitation" and mail.questionnaire is not None:
            deadline = str(mail.context.get("deadline") or "")
            attachments += form_attachments(mail.questionnaire, lang=lang, deadline=deadline)
        if mail.kind in CALENDAR_KINDS or (
            mail.kind == "workshop_cancellation" and mail.context.get("was") == "confirmed"
        ):
            method = str(mail.context["event"].get("method") or "REQUEST").upper()
            ics = build_ics(
                mail.context,
                attendees=mail.recipients,
                organizer=mail.secretariat,
                domain=settings.mail_domain,
                description=_ics_description(text),
            )
            attachments.append(ics_attachment(ics, method))
    except Exception as exc:  # a template or context problem: name the mail, keep the cause
        raise RenderError(
            f"{mail.kind} {mail.idempotency_key}: {type(exc).__name__}: {exc}"
        ) from exc
    return RenderedMail(subject, _tidy(text), html, tuple(attachments), lang)


#: A kind's text and HTML template, by (language, kind): the templates ship with the code
#: and are never reloaded (``auto_reload=False``).
_TEMPLATES: dict[tuple[str, str], tuple[Template, Template]] = {}


def _ics_description(text: str) -> str:
    """The mail's text without the signature footer, for the calendar entry."""
    return text.split("\n-- \n", 1)[0].strip()


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces, one final newline."""
    out: list[str] = []
    blank = True  # no blank line at the start either
    for line in text.splitlines():
        if line != "-- ":  # the signature separator keeps its space
            line = line.rstrip()
        if not line:
            if blank:
                continue
            blank = True
        else:
            blank = False
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"
