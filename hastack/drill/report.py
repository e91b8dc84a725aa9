"""The drill report: measured terms beside `hastack assess`'s modeled figures and the targets.

Measured RTO is the slowest measured term (the terms of one drill run at the same
time, so recovery waits for the slowest). Measured RPO is not observable from the
services' events (none reports the writes it lost), so it is null with the reason;
the modeled RPO and the target stand beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RPO_NOTE = ("not measured: no service event reports lost writes; compare the modeled RPO "
            "and check the application's own write log")


def document(*, environment: str, cloud: str, scenario: str, region: str, started_at: str,
             domain: str, modeled: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    seconds = [t["seconds"] for t in measured["terms"] if t.get("seconds") is not None]
    rto = max(seconds) if seconds else None
    target_rto = modeled.get("targetRtoSeconds")
    return {
        "environment": environment, "cloud": cloud, "scenario": scenario, "region": region,
        "startedAt": started_at, "status": measured.get("status"), "domain": domain,
        "phases": measured["phases"],
        "measured": {"rtoSeconds": rto, "rpoSeconds": None, "rpoNote": RPO_NOTE,
                     "terms": measured["terms"]},
        "modeled": {"rtoSeconds": modeled.get("rtoSeconds"),
                    "rpoSeconds": modeled.get("rpoSeconds"),
                    "terms": modeled.get("terms", [])},
        "targets": {"rtoSeconds": target_rto, "rpoSeconds": modeled.get("targetRpoSeconds")},
        "rtoMet": None if rto is None or target_rto is None else rto <= target_rto,
        # What the operator runs next (a GCP region drill leaves the standby active).
        "followUp": measured.get("followUp"),
    }


def _s(value: Any) -> str:
    return "-" if value is None else (f"{value:g}" if isinstance(value, int | float)
                                      else str(value))


def markdown(doc: dict[str, Any]) -> str:
    verdict = {True: "met", False: "**missed**", None: "not judged"}[doc["rtoMet"]]
    lines = [
        f"# Drill: {doc['scenario']} on {doc['environment']} ({doc['region']})",
        "",
        f"Started {doc['startedAt']}; status **{doc['status']}**; compared with the "
        f"`{doc['domain']}` domain of `hastack assess`. RTO target {verdict}.",
        "",
        "| | RTO (s) | RPO (s) |",
        "|---|---|---|",
        f"| measured | {_s(doc['measured']['rtoSeconds'])} | "
        f"{_s(doc['measured']['rpoSeconds'])} |",
        f"| modeled | {_s(doc['modeled']['rtoSeconds'])} | {_s(doc['modeled']['rpoSeconds'])} |",
        f"| target | {_s(doc['targets']['rtoSeconds'])} | {_s(doc['targets']['rpoSeconds'])} |",
        "",
        f"RPO: {doc['measured']['rpoNote']}.",
        "",
        *([f"**Next:** run `{doc['followUp']}`.", ""] if doc.get("followUp") else []),
        "## Measured terms",
        "",
        "| term | seconds | from | to | source |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t['term']} | {_s(t.get('seconds'))} | {_s(t.get('from'))} | "
              f"{_s(t.get('to'))} | {t['source']} |" for t in doc["measured"]["terms"]]
    lines += ["", "## Phases (cloud timestamps)", "", "| phase | seconds | from | to | status |",
              "|---|---|---|---|---|"]
    lines += [f"| {p['term']} | {_s(p.get('seconds'))} | {_s(p.get('from'))} | "
              f"{_s(p.get('to'))} | {_s(p.get('status'))} |" for p in doc["phases"]]
    modeled_terms = doc["modeled"]["terms"]
    if modeled_terms:
        lines += ["", "## Modeled terms (`hastack assess`)", "", "| term | seconds |",
                  "|---|---|"]
        lines += [f"| {t.get('name', t.get('term', '?'))} | {_s(t.get('seconds'))} |"
                  for t in modeled_terms]
    return "\n".join(lines) + "\n"


def write(doc: dict[str, Any], out_dir: Path, stamp: str,
          json_path: Path | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / f"{doc['environment']}-{doc['scenario']}-{stamp}"
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    paths = [base.with_suffix(".json"), base.with_suffix(".md")]
    paths[0].write_text(text)
    paths[1].write_text(markdown(doc))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(text)
        paths.append(json_path)
    return paths
