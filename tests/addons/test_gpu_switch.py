"""The stack file's one GPU switch reaches the AWS platform's clusters (and only when on)."""

from __future__ import annotations

from components.aws.platform import AwsPlatform
from hastack.config import load_settings
from hastack.plan.runner import Recording, run_program

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"


def _plan(**kubernetes: object) -> Recording:
    config = load_settings({
        "cloud": "aws", "tier": "dev", "orchestrator": "prefect",
        "regions": {"primary": "us-east-2"}, "dns": {"domain": "example.com"},
        "workflows": {"enabled": False}, "database": {"enabled": False},
        "cache": {"enabled": False}, "artifacts": {"enabled": False},
        "kubernetes": kubernetes,
    }, "stacks/Pulumi.test.yaml")

    def program() -> None:
        AwsPlatform("hastack-dev", config)

    return run_program(program, project="hastack", stack="test", config={})


def test_gpu_switch_on_adds_the_gpu_pool_with_the_stack_files_type_and_ceiling() -> None:
    recording = _plan(gpu={"enabled": True, "instanceType": "g5.2xlarge", "maxNodes": 4})
    pools = {r.inputs["metadata"]["name"]: r.inputs["spec"]
             for r in Recording.of_type(recording, NODE_POOL)}
    assert set(pools) == {"general", "gpu"}
    requirements = pools["gpu"]["template"]["spec"]["requirements"]
    assert {"key": "node.kubernetes.io/instance-type", "operator": "In",
            "values": ["g5.2xlarge"]} in requirements
    assert pools["gpu"]["limits"] == {"nvidia.com/gpu": "4"}


def test_gpu_switch_off_means_no_gpu_pool() -> None:
    pools = {r.inputs["metadata"]["name"] for r in Recording.of_type(_plan(), NODE_POOL)}
    assert pools == {"general"}
