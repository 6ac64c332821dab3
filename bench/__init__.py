"""Aftaleflow's performance suite (issue 7): ``python -m bench`` or ``make bench``.

Runs every measurement in one process, prints a table of figures and ratios with their
targets, and writes them with a description of the machine to ``bench/RESULTS.md``.
"""
