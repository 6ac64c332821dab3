"""The scheduler's log lines: text (``time LEVEL logger message  action=… key=…``) or one JSON
object per line, and the filters that keep ordinary noise out of them."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message  action=… key=…``: one line per record, greppable."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += "  " + " ".join(f"{k}={_plain(v)}" for k, v in extras.items())
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald/Loki/ELK: the extras are top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=_json_value, ensure_ascii=False)


def _json_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _plain(value: Any) -> str:
    s = value.isoformat() if isinstance(value, datetime) else str(value)
    return json.dumps(s, ensure_ascii=False) if (" " in s or not s) else s


class _NoMaxInstancesNoise(logging.Filter):
    """A run skipped because the previous one still runs is by design (max_instances=1)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


class LateFilter(logging.Filter):
    """With a fast clock every action is a little late; keep the service's ``caught_up`` lines
    for actions later than the tick granularity (real downtime)."""

    def __init__(self, threshold: timedelta) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "action", None) != "caught_up":
            return True
        late = record.args[-1] if isinstance(record.args, tuple) and record.args else None
        return not isinstance(late, timedelta) or late > self.threshold


def setup_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_NoMaxInstancesNoise())
    # werkzeug logs every request line, personal-link tokens included: keep it out of INFO
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
