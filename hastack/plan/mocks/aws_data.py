"""Mock outputs and data sources for the AWS database, cache, bucket and DNS components.

The real provider auto-names these resources (`<logical name>-<random suffix>`)
and returns the name as an output other resources reference (a subnet group's
name on the cluster, a log group's name as a delivery destination). The mocks
derive that suffix from the resource's digest so plans stay byte-identical.
"""

from __future__ import annotations

from typing import Any

from hastack.plan.mocks import ACCOUNT_ID, MockContext, outputs_for


def _auto_name(context: MockContext) -> str:
    return str(context.inputs.get("name") or f"{context.name}-{context.digest(7)}")


def _named(context: MockContext) -> dict[str, Any]:
    name = _auto_name(context)
    return {"id": name, "name": name}


for _token in (
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    "aws:elasticache/subnetGroup:SubnetGroup",
    "aws:elasticache/parameterGroup:ParameterGroup",
):
    outputs_for(_token)(_named)


@outputs_for("aws:cloudwatch/logGroup:LogGroup")
def _log_group(context: MockContext) -> dict[str, Any]:
    name = _auto_name(context)
    return {"id": name, "name": name,
            "arn": f"arn:aws:logs:{context.region}:{ACCOUNT_ID}:log-group:{name}"}


@outputs_for("aws:route53/record:Record")
def _record(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("name", context.name)).rstrip(".")
    identifier = context.inputs.get("setIdentifier", "")
    record_type = context.inputs.get("type", "A")
    zone = context.inputs.get("zoneId", "")
    return {"id": f"{zone}_{name}_{record_type}_{identifier}".rstrip("_"), "fqdn": name}
