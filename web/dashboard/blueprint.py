"""The dashboard's blueprint: every secretariat page lives under ``/sekretariat/``."""

from __future__ import annotations

from flask import Blueprint

PREFIX = "/sekretariat"

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix=PREFIX,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
