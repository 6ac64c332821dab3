"""A demo database as ``make run`` leaves it: the demo process run on its virtual clock (the
engine's ticks and the demo's simulated secretariat) up to a moment, the last tick recorded."""

from __future__ import annotations

from datetime import datetime

from aftaleflow import demo
from workflow.loader import load_bundle
from workflow.scheduling import record_tick
from workflow.service import Service


def run_demo_until(service: Service, until: datetime) -> str:
    """Seed the demo process and run it up to ``until``; its key."""
    key = demo.seed(service).key
    at = demo.timeline_start(load_bundle(demo.DEFINITION))
    while True:
        due = [t for t in (service.next_due(), demo.next_outcome_at(service, key)) if t]
        if not due or min(due) > until:
            break
        at = max(at, min(due))
        demo.secretariat(service, key, at)
        report = service.tick(at, actor="scheduler")
        record_tick(service.db, report, at)
    record_tick(service.db, service.tick(until, actor="scheduler"), until)
    return key
