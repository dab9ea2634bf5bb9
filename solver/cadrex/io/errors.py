"""Input problems reported as ``file:line:column: message``."""

from __future__ import annotations

from dataclasses import dataclass

from cadrex.i18n import text


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the input, located in a file (header = line 1, columns 1-based)."""

    file: str
    line: int
    col: int
    message: str  # a str, or a cadrex.i18n.Msg (a str whose value is English) that renders in either language

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"

    def text(self, lang: str) -> str:
        """``file:line:column: message`` with the message in ``lang`` (where it is a catalogue message)."""
        return f"{self.file}:{self.line}:{self.col}: {text(self.message, lang)}"


class CaseError(Exception):
    """The case is invalid; ``problems`` holds every problem found, in file/line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line, p.col, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class Collector:
    """Accumulates problems while a case is read, so that all of them are reported in one run."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.notes: list = []  # warnings that do not stop the reading (a misspelt column): kept on the case

    def add(self, file: str, line: int, col: int, message: str) -> None:
        self.problems.append(Problem(str(file), int(line), int(col), message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise CaseError(self.problems)


def gather(*calls):
    """Run each call; if any raised :class:`CaseError`, raise one with every problem of all of them (all problems in
    one run), else return their results."""
    problems: list[Problem] = []
    out = []
    for call in calls:
        try:
            out.append(call())
        except CaseError as exc:
            problems += exc.problems
            out.append(None)
    if problems:
        raise CaseError(problems)
    return out


def shown(v) -> str:
    """A value as a message quotes it: ``repr``, cut to 80 characters (a message stays one readable line)."""
    t = str(v)
    return repr(t) if len(t) <= 80 else repr(t[:77]) + "…"
