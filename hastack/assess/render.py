"""The assessment as a console table and as Markdown short enough for a PR comment."""

from __future__ import annotations

from typing import Any

DOMAIN_LABELS = {"nodeFailure": "node", "zoneFailure": "zone", "regionFailure": "region"}


def _s(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:g} s" if isinstance(value, int | float) else str(value)


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "no target"}[met]


def _dominant(domain: dict[str, Any]) -> str:
    rto_terms = [t for t in domain["terms"] if not t["name"].startswith("RPO")]
    if not rto_terms:
        return ""
    worst = max(rto_terms, key=lambda t: t["seconds"])
    return f"{worst['name']} ({worst['seconds']:g} s, {worst['kind']})"


def _reason(domain: dict[str, Any]) -> str:
    return next((n for n in domain["notes"] if n.startswith("unrecoverable")), "")


def table(doc: dict[str, Any]) -> str:
    lines = [f"hastack assess · {doc['environment']} ({doc['stack']}) · {doc['cloud']} · "
             f"tier {doc['tier']}  — modeled, not measured", "",
             f"{'domain':<8} {'RTO':>8} {'target':>8} {'RPO':>8} {'target':>8}  verdict",]
    for key, label in DOMAIN_LABELS.items():
        d = doc["domains"][key]
        lines.append(f"{label:<8} {_s(d['rtoSeconds']):>8} {_s(d['targetRtoSeconds']):>8} "
                     f"{_s(d['rpoSeconds']):>8} {_s(d['targetRpoSeconds']):>8}  "
                     f"{_verdict(d['met'])}")
    for key, label in DOMAIN_LABELS.items():
        d = doc["domains"][key]
        lines += ["", f"{label}: RTO {_s(d['rtoSeconds'])}, RPO {_s(d['rpoSeconds'])}"]
        lines += [f"  {t['seconds']:>7g} s  [{t['kind'][0].upper()}] {t['name']}"
                  for t in d["terms"]]
        lines += [f"  · {note}" for note in d["notes"]]
    lines += ["", "kinds: [B] bound (documented or configured), [T] typical (vendor, not a "
                  "promise), [A] assumption (measure it in a drill)"]
    return "\n".join(lines)


def markdown(doc: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """A few lines per environment; with `baseline` (main's figures), the change."""
    lines = [f"### Resilience assessment: `{doc['environment']}` ({doc['cloud']}, "
             f"{doc['tier']})", "",
             "| domain | RTO | target | RPO | target | verdict | dominated by |",
             "|---|---|---|---|---|---|---|"]
    for key, label in DOMAIN_LABELS.items():
        d = doc["domains"][key]
        rto, rpo = _s(d["rtoSeconds"]), _s(d["rpoSeconds"])
        if baseline is not None:
            before = baseline.get("domains", {}).get(key, {})
            rto += _change(before.get("rtoSeconds"), d["rtoSeconds"])
            rpo += _change(before.get("rpoSeconds"), d["rpoSeconds"])
        verdict = _verdict(d["met"])
        verdict = f"**{verdict}**" if d["met"] is False else verdict
        why = _reason(d) or _dominant(d)
        lines.append(f"| {label} | {rto} | {_s(d['targetRtoSeconds'])} | {rpo} | "
                     f"{_s(d['targetRpoSeconds'])} | {verdict} | {why} |")
    lines += ["", "_Modeled from the plan and documented figures, not measured; "
                  "`hastack assess` prints every term and its source._"]
    return "\n".join(lines) + "\n"


def _change(before: Any, after: Any) -> str:
    if before == after:
        return ""
    return f" (main: {_s(before)})"
