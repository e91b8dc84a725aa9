"""The arithmetic: terms add up along a path; parallel branches take the slowest.

A `Path` is a list of terms on the critical path (RTO = their sum). `parallel`
keeps the slowest branch and notes the others; any unrecoverable branch makes the
whole path unrecoverable. That is the only non-additive operator of the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hastack_policies.resilience.facts import Kind, fact


@dataclass(frozen=True)
class Term:
    name: str
    seconds: float
    source: str
    kind: Kind

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "seconds": _number(self.seconds), "source": self.source,
                "kind": self.kind}


def from_fact(name: str, key: str) -> Term:
    found = fact(key)
    return Term(name, found.seconds, found.source, found.kind)


def configured(name: str, seconds: float, source: str) -> Term:
    """A term read from the plan: a configured value is a bound."""
    return Term(name, seconds, source, "bound")


@dataclass
class Path:
    terms: list[Term] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Set when this path cannot complete: the reason.
    unrecoverable: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.unrecoverable is not None:
            return None
        return float(sum(term.seconds for term in self.terms))

    def then(self, *others: Path | Term) -> Path:
        """This path followed by others (serial)."""
        result = Path(list(self.terms), list(self.notes), self.unrecoverable)
        for other in others:
            if isinstance(other, Term):
                result.terms.append(other)
                continue
            result.terms.extend(other.terms)
            result.notes.extend(other.notes)
            result.unrecoverable = result.unrecoverable or other.unrecoverable
        return result


def term_path(*terms: Term, note: str | None = None) -> Path:
    return Path(list(terms), [note] if note else [])


def dead(reason: str) -> Path:
    return Path(unrecoverable=reason)


def parallel(label: str, branches: Iterable[tuple[str, Path]]) -> Path:
    """The slowest branch (they start together); an unrecoverable branch wins."""
    named = [(name, path) for name, path in branches]
    if not named:
        return Path()
    notes = [note for _, path in named for note in path.notes]
    for name, path in named:
        if path.unrecoverable is not None:
            return Path(notes=notes, unrecoverable=f"{name}: {path.unrecoverable}")
    slowest_name, slowest = max(named, key=lambda item: item[1].seconds or 0.0)
    if len(named) > 1:
        rest = ", ".join(f"{name} {_number(path.seconds or 0.0)} s" for name, path in named
                         if path is not slowest)
        notes.append(f"{label}: {slowest_name} ({_number(slowest.seconds or 0.0)} s) is the "
                     f"slowest of the parallel branches (also: {rest})")
    return Path(list(slowest.terms), notes)


def _number(seconds: float | None) -> float | int | None:
    if seconds is None:
        return None
    return int(seconds) if float(seconds).is_integer() else round(seconds, 3)
