"""The values a decision records (``decides:`` in the definition, KKR's focus areas): checked
when the secretariat records the outcome, with Danish refusals. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.definition import DecisionStage, Stage
from workflow.errors import GuardRefused


def decided_values(
    stage: Stage, outcome: str, given: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """The values to record with ``outcome``: every declared value, each ``min`` to ``max``
    of its options. Only a decision that is taken (held or approved) records values."""
    specs = stage.decides if isinstance(stage, DecisionStage) else {}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        known = ", ".join(specs) or "ingen"
        raise GuardRefused(
            f"Fasen »{stage.name}« beslutter ikke {', '.join(unknown)} (den beslutter: {known}).",
            en=f"The stage »{stage.name}« does not decide {', '.join(unknown)} "
            f"(it decides: {', '.join(specs) or 'nothing'}).",
        )
    if outcome not in ("held", "approved"):
        if given:
            raise GuardRefused(
                "Værdier registreres kun med en beslutning, der er truffet (held eller approved).",
                en="Values are recorded only with a decision that was taken (held or approved).",
            )
        return {}
    out: dict[str, list[str]] = {}
    for key, spec in specs.items():
        chosen = list(dict.fromkeys(given.get(key, [])))
        options = [o.value for o in spec.options]
        wrong = [v for v in chosen if v not in options]
        if wrong:
            raise GuardRefused(
                f"{spec.label}: {', '.join(wrong)} er ikke en af mulighederne "
                f"({', '.join(options)}).",
                en=f"{spec.label_en or key}: {', '.join(wrong)} is not one of the options "
                f"({', '.join(options)}).",
            )
        most = spec.max if spec.max is not None else len(options)
        if not spec.min <= len(chosen) <= most:
            raise GuardRefused(
                f"{spec.label}: vælg {spec.min} til {most} (valgt: {len(chosen)}); "
                f"skriv fx --value {key}={','.join(options[: max(spec.min, 1)])}.",
                en=f"{spec.label_en or key}: choose {spec.min} to {most} (chosen: {len(chosen)}).",
            )
        out[key] = chosen
    return out


def planned_values(stage: Stage) -> dict[str, list[str]]:
    """The values a decision is planned to record (``planned``, else its first ``min``
    options): what the simulated secretariat (``simulate``, the demo) records."""
    if not isinstance(stage, DecisionStage):
        return {}
    return {
        key: list(spec.planned or [o.value for o in spec.options][: max(spec.min, 1)])
        for key, spec in stage.decides.items()
    }
