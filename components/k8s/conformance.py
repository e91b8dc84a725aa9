"""Do the values we hand each Helm release mean what we think they mean?

Two checks, both against the chart's own data files at the pinned version:

* schema: charts that ship `values.schema.json` (prefect-server, prefect-worker)
  are validated the way Helm does at install time: our values coalesced onto the
  chart defaults, then JSON-Schema validated. A violation here is a failed
  `pulumi up`, caught at plan time instead.
* keys: every key path we set must exist in the chart's default `values.yaml`, or
  sit under a map the chart documents as free-form (annotations, affinity, ...) or
  documents only in comments (`controller.persistence`, `artifactRepository.s3`, ...,
  whose allowed keys are listed in DOCUMENTED_MAPS and themselves checked against
  the comments by the tests). argo-workflows has no schema and silently ignores
  unknown keys, so a misspelt `controller.replica` would quietly drop HA.

The chart data lives outside the repository (maintainers' files, never copied in):
`$HASTACK_CHART_DATA`, default `<repo>/../shared/charts`, laid out as
`<chart>/<version>/{values.yaml,values.schema.json}`.

CLI: `python -m components.k8s.conformance <chart> <values.yaml|json>`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.k8s.charts import ChartRef, chart_by_name

ENV_VAR = "HASTACK_CHART_DATA"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHART_DATA = REPO_ROOT.parent / "shared" / "charts"

KeyPath = tuple[str, ...]

# Maps whose contents are Kubernetes objects or arbitrary string maps: any key is
# fine below them. `*` matches exactly one path segment.
FREE_FORM: dict[str, tuple[str, ...]] = {
    "argo-workflows": (
        "commonLabels", "*.podAnnotations", "*.podLabels", "*.deploymentAnnotations",
        "*.serviceAnnotations", "*.serviceLabels", "*.nodeSelector", "*.affinity",
        "*.resources", "*.podSecurityContext", "*.securityContext",
        "*.serviceAccount.annotations", "*.serviceAccount.labels",
        "*.ingress.annotations", "*.ingress.labels", "*.configMap.annotations",
        "controller.workflowDefaults", "controller.resourceRateLimit",
        "controller.retentionPolicy", "controller.workflowRestrictions",
        "controller.kubeConfig", "controller.metricsConfig.modifiers",
        "controller.serviceMonitor.additionalLabels", "crds.annotations",
        "server.autoscaling.behavior", "server.GKEbackendConfig.spec",
        "server.GKEfrontendConfig.spec", "customArtifactRepository", "artifactRepositoryRef",
    ),
    "prefect-server": (
        "commonLabels", "commonAnnotations", "*.affinity", "*.nodeSelector", "*.podLabels",
        "*.podAnnotations", "*.lifecycle", "*.serviceAccount.annotations",
        "serviceAccount.annotations", "ingress.annotations", "service.annotations",
        "gateway.infrastructure", "redis",
    ),
    "prefect-worker": (
        "commonLabels", "commonAnnotations", "*.affinity", "*.nodeSelector", "*.podLabels",
        "*.podAnnotations", "serviceAccount.annotations",
    ),
    # Add-on charts (no values.schema.json: Helm accepts any key, so this is the only check).
    "aws-load-balancer-controller": (
        "serviceAccount.annotations", "resources", "affinity", "nodeSelector",
        "podAnnotations", "podLabels", "additionalLabels", "defaultTags",
    ),
    "metrics-server": (
        "serviceAccount.annotations", "resources", "affinity", "nodeSelector", "podLabels",
        "podAnnotations", "commonLabels",
    ),
    "karpenter": (
        "serviceAccount.annotations", "controller.resources", "additionalLabels",
        "additionalAnnotations", "podLabels", "podAnnotations", "affinity", "nodeSelector",
    ),
    # Kubernetes objects / Alertmanager's own config / label maps, passed through verbatim.
    "kube-prometheus-stack": (
        "commonLabels", "*.serviceAccount.annotations", "*.*.storageSpec", "*.*.storage",
        "*.*.externalLabels", "*.*.resources", "*.*.affinity", "alertmanager.config",
    ),
    "prometheus-prefect-exporter": (
        "commonLabels", "podLabels", "podAnnotations", "serviceAccount.annotations",
        "serviceMonitor.additionalLabels", "resources", "affinity", "nodeSelector",
        "podDisruptionBudget",
    ),
}

# Maps whose default is `{}` but whose keys the chart documents in comments right
# below them. Leaves are None; nested dicts list the allowed keys one level down.
_SECRET_REF: dict[str, Any] = {"name": None, "key": None}
_PG: dict[str, Any] = {
    "host": None, "port": None, "database": None, "tableName": None,
    "userNameSecret": _SECRET_REF, "passwordSecret": _SECRET_REF, "ssl": None, "sslMode": None,
}
_PDB: dict[str, Any] = {"enabled": None, "minAvailable": None, "maxUnavailable": None}
DOCUMENTED_MAPS: dict[str, dict[str, dict[str, Any]]] = {
    "argo-workflows": {
        "controller.persistence": {
            "connectionPool": {"maxIdleConns": None, "maxOpenConns": None},
            "nodeStatusOffLoad": None, "archive": None, "postgresql": _PG,
            "mysql": {k: v for k, v in _PG.items() if k not in ("ssl", "sslMode")},
        },
        "controller.pdb": _PDB,
        "server.pdb": _PDB,
        "artifactRepository.s3": {
            "accessKeySecret": _SECRET_REF, "secretKeySecret": _SECRET_REF,
            "sessionTokenSecret": _SECRET_REF, "insecure": None, "caSecret": _SECRET_REF,
            "bucket": None, "endpoint": None, "region": None, "roleARN": None,
            "useSDKCreds": None, "encryptionOptions": {"enableEncryption": None},
            # Not in the s3 comments, but documented for gcs in the same block and a
            # field of Argo v4's S3ArtifactRepository (tests check it against the schema).
            "keyFormat": None,
        },
        "artifactRepository.gcs": {
            "bucket": None, "keyFormat": None, "serviceAccountKeySecret": _SECRET_REF,
        },
    },
    "prefect-worker": {
        "worker.podDisruptionBudget": {"maxUnavailable": None, "minAvailable": None},
    },
    "prefect-server": {
        # Commented "example RollingUpdate options" (the schema also lists both).
        "server.updateStrategy.rollingUpdate": {"maxSurge": None, "maxUnavailable": None},
    },
    "aws-load-balancer-controller": {
        # Copied verbatim into the PDB spec; values.yaml documents maxUnavailable.
        "podDisruptionBudget": {"maxUnavailable": None},
        "updateStrategy": {"type": None,
                           "rollingUpdate": {"maxSurge": None, "maxUnavailable": None}},
    },
    "metrics-server": {
        "updateStrategy": {"type": None,
                           "rollingUpdate": {"maxSurge": None, "maxUnavailable": None}},
    },
}


class ChartDataMissing(FileNotFoundError):
    """The chart data directory (or one chart in it) is not there."""


@dataclass(frozen=True)
class ChartData:
    ref: ChartRef
    defaults: dict[str, Any]
    schema: dict[str, Any] | None
    values_text: str


@dataclass(frozen=True)
class Violation:
    chart: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.chart}: {self.path or '<root>'}: {self.message}"


def how_to_provide() -> str:
    return (f"set {ENV_VAR} to a directory laid out as <chart>/<version>/values.yaml "
            f"(+ values.schema.json), e.g. {ENV_VAR}=/work/shared/charts; "
            f"default is {DEFAULT_CHART_DATA}")


def chart_data_dir() -> Path:
    """The chart-data directory, or ChartDataMissing saying how to provide it."""
    root = Path(os.environ.get(ENV_VAR) or DEFAULT_CHART_DATA)
    if not root.is_dir():
        raise ChartDataMissing(f"chart data not found at {root}: {how_to_provide()}")
    return root


# libyaml's parser where PyYAML has it (some 15x faster on kube-prometheus-stack's values);
# the constructor and resolver are the same Python classes, so the data is the same.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_YAML_LOADER)  # a safe loader (SafeLoader or CSafeLoader)


def load_chart(ref: ChartRef, root: Path | None = None) -> ChartData:
    directory = (root or chart_data_dir()) / ref.data_path
    values_file = directory / "values.yaml"
    if not values_file.is_file():
        raise ChartDataMissing(f"{values_file} is missing: {how_to_provide()}")
    text = values_file.read_text()
    schema_file = directory / "values.schema.json"
    schema = json.loads(schema_file.read_text()) if schema_file.is_file() else None
    return ChartData(ref, load_yaml(text) or {}, schema, text)


# --- key paths ---------------------------------------------------------------------------


def key_paths(values: Mapping[str, Any], prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every path to a leaf; lists are leaves (their items are chart-free objects)."""
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from key_paths(value, path)
        else:
            yield path


def _matches_prefix(path: KeyPath, pattern: str) -> bool:
    segments = pattern.split(".")
    if len(path) < len(segments):
        return False
    return all(seg in ("*", part) for seg, part in zip(segments, path, strict=False))


def _in_defaults(path: KeyPath, defaults: Any) -> bool:
    node = defaults
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _in_spec(rest: KeyPath, spec: Mapping[str, Any]) -> bool:
    node: Any = spec
    for part in rest:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def check_keys(chart: str, values: Mapping[str, Any], defaults: Mapping[str, Any]
               ) -> list[Violation]:
    """Key paths that are neither chart defaults, free-form, nor documented in comments."""
    free_form = FREE_FORM.get(chart, ())
    documented = DOCUMENTED_MAPS.get(chart, {})
    violations = []
    for path in key_paths(values):
        dotted = ".".join(path)
        if any(_matches_prefix(path, pattern) for pattern in free_form):
            continue
        doc_root = next((root for root in documented if _matches_prefix(path, root)), None)
        if doc_root is not None:
            rest = path[len(doc_root.split(".")):]
            if not _in_spec(rest, documented[doc_root]):
                violations.append(Violation(
                    chart, dotted, f"not a documented key of `{doc_root}` "
                    f"(allowed: {sorted(documented[doc_root])})"))
            continue
        if not _in_defaults(path, defaults):
            violations.append(Violation(
                chart, dotted, "not a key of the chart's values.yaml (misspelt? the chart "
                "would silently ignore it)"))
    return violations


# --- schema ------------------------------------------------------------------------------


def coalesce(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of user values onto chart defaults: maps merge, null deletes."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def check_schema(chart: str, values: Mapping[str, Any], data: ChartData) -> list[Violation]:
    if data.schema is None:
        return []
    from jsonschema import Draft7Validator, validators

    cls = validators.validator_for(data.schema, default=Draft7Validator)
    validator = cls(data.schema)
    merged = coalesce(data.defaults, values)
    return [
        Violation(chart, ".".join(str(p) for p in error.absolute_path), error.message)
        for error in sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
    ]


def check_values(chart: str, values: Mapping[str, Any], root: Path | None = None
                 ) -> list[Violation]:
    """All violations of `values` for the pinned chart called `chart`."""
    data = load_chart(chart_by_name(chart), root)
    # By chart name: an OCI chart's Release names its full reference.
    name = data.ref.name
    return [*check_keys(name, values, data.defaults), *check_schema(name, values, data)]


# --- recorded plans ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseValues:
    release: str
    chart: str
    version: str
    values: dict[str, Any]


def release_values(registrations: Sequence[Any]) -> list[ReleaseValues]:
    """The values every Helm Release in a recorded plan receives (as the engine saw them)."""
    found = []
    for registration in registrations:
        if registration.type != RELEASE_TYPE:
            continue
        inputs = registration.inputs
        found.append(ReleaseValues(str(inputs.get("name") or registration.name),
                                   str(inputs.get("chart", "")), str(inputs.get("version", "")),
                                   dict(inputs.get("values") or {})))
    return found


def check_registrations(registrations: Sequence[Any], root: Path | None = None
                        ) -> list[Violation]:
    """Conformance of every Release in a plan, including that it uses the pinned version."""
    violations = []
    for rv in release_values(registrations):
        pinned = chart_by_name(rv.chart)
        if rv.version != pinned.version:
            violations.append(Violation(rv.chart, "version",
                                        f"{rv.version!r} is not the pinned {pinned.version!r}"))
        violations.extend(check_values(rv.chart, rv.values, root))
    return violations


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m components.k8s.conformance <chart> <values.yaml|json>",
              file=sys.stderr)
        return 2
    chart, values_path = args
    try:
        root = chart_data_dir()
        values = load_yaml(Path(values_path).read_text()) or {}
        violations = check_values(chart, values, root)
    except (OSError, KeyError, yaml.YAMLError) as error:  # ChartDataMissing is an OSError
        print(f"error: {error}", file=sys.stderr)
        return 2
    for violation in violations:
        print(violation)
    print(f"{chart}: {len(violations)} violation(s)", file=sys.stderr)
    return 1 if violations else 0


def documented_key_in_comments(values_text: str, key: str) -> bool:
    """Whether the chart's values.yaml mentions `key:` (commented out or not)."""
    return re.search(rf"^\s*(#\s*)*{re.escape(key)}:", values_text, re.MULTILINE) is not None


if __name__ == "__main__":
    raise SystemExit(main())
