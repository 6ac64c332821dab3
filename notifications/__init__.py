"""Notifications: outbox rows → rendered mails (Jinja2, .ics) → MIME bytes → SMTP or files.

``render`` and ``message`` are pure; ``transports`` holds the I/O; ``sender`` drains the outbox
with claims, retries and an audit event for every send. Nothing here reads the clock for a
business decision: the time is the ``at`` parameter.
"""
