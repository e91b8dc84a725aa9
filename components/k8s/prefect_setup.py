"""Deploy-time setup of Prefect's result storage and work pool, run inside the cluster.

This file is *also* the program of the setup Job (`python -c <this file>` in the
pinned prefect worker image, which has prefect and prefect-kubernetes): keep it free
of Pulumi and of anything the image lacks. Idempotent, so every `pulumi up` may run it:

* the RemoteFileSystem block HASTACK_RESULT_BLOCK with basepath HASTACK_RESULTS_URL
  (`s3://<bucket>/prefect/results` or `gs://...`), saved with overwrite=True; flow
  runs find it through PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK and reach the bucket
  with the flow-run service account's IRSA / Workload Identity (no keys in the block);
* the work pool HASTACK_WORK_POOL, created or overwritten with the Kubernetes worker's
  own default base job template, whose `service_account_name` default is the flow-run
  service account and whose `env` default is HASTACK_FLOW_RUN_ENV (JSON). The chart's
  `baseJobTemplate` is applied only when the pool does not exist yet, so it cannot
  carry changes: this job does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

ENV_RESULTS_URL = "HASTACK_RESULTS_URL"
ENV_RESULT_BLOCK = "HASTACK_RESULT_BLOCK"
ENV_WORK_POOL = "HASTACK_WORK_POOL"
ENV_FLOW_RUN_SA = "HASTACK_FLOW_RUN_SA"
ENV_FLOW_RUN_ENV = "HASTACK_FLOW_RUN_ENV"


def base_job_template(default: Mapping[str, Any], service_account: str,
                      env: Mapping[str, str]) -> dict[str, Any]:
    """The worker's default template with our service account and environment as defaults."""
    template = json.loads(json.dumps(default))
    properties = template["variables"]["properties"]
    for variable in ("service_account_name", "env"):
        if variable not in properties:
            raise RuntimeError(f"the Kubernetes worker's base job template has no {variable!r} "
                               "variable; this setup no longer matches the worker version")
    properties["service_account_name"]["default"] = service_account
    properties["env"]["default"] = dict(env)
    return template


def main(environ: Mapping[str, str] = os.environ) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.filesystems import RemoteFileSystem
    from prefect_kubernetes.worker import KubernetesWorker

    RemoteFileSystem(basepath=environ[ENV_RESULTS_URL]).save(
        environ[ENV_RESULT_BLOCK], overwrite=True)
    template = base_job_template(KubernetesWorker.get_default_base_job_template(),
                                 environ[ENV_FLOW_RUN_SA],
                                 json.loads(environ[ENV_FLOW_RUN_ENV]))
    with get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(name=environ[ENV_WORK_POOL], type="kubernetes",
                           base_job_template=template),
            overwrite=True)
    print(f"result storage {environ[ENV_RESULT_BLOCK]} -> {environ[ENV_RESULTS_URL]}; "
          f"work pool {environ[ENV_WORK_POOL]} runs flows as {environ[ENV_FLOW_RUN_SA]}")


if __name__ == "__main__":
    main()
