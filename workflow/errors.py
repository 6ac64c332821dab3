"""One root exception whose message says what to do."""

from __future__ import annotations

from dataclasses import dataclass


class AftaleflowError(Exception):
    """Something went wrong in Aftaleflow; the message says what to do about it.

    The message is Danish (the CLI and the dashboard are Danish first); ``en`` is its English
    twin, shown by a page in English (``text``), when the error reaches one.
    """

    def __init__(self, message: str | None = None, *, en: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())
        self.en = en

    def text(self, lang: str = "da") -> str:
        """The message in ``lang`` (Danish when it has no English twin)."""
        return self.en if lang == "en" and self.en else str(self)


@dataclass(frozen=True)
class Problem:
    """One problem in a definition file: where it is and what is wrong."""

    file: str
    line: int | None
    message: str
    field: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" [{self.field}]" if self.field else ""
        return f"{where}:{field} {self.message}"


class DefinitionError(AftaleflowError):
    """A definition file is not valid; each problem names file, line and field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NotFound(AftaleflowError):
    """The thing asked for does not exist."""


class GuardRefused(AftaleflowError):
    """The action is not allowed in the current state; the message says why."""


class ConcurrentUpdate(AftaleflowError):
    """Someone else changed the same process at the same time; reload and try again."""


class SchedulerAlreadyRunning(AftaleflowError):
    """Another scheduler is already running on this database."""


class ConfigurationError(AftaleflowError):
    """A setting is wrong, or the file or folder it names cannot be used; the message says which."""
