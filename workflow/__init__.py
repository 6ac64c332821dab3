"""Aftaleflow's engine: definitions, state machines, planner, service and storage.

Nothing in this package imports ``notifications`` or ``web``; the core modules
(``definition``, ``calendar``, ``timeline``, ``planner``, ``machines``) do no I/O.
"""
