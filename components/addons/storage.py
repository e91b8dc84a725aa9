"""The cluster's default StorageClass: encrypted gp3 through the EBS CSI driver.

Why our own: EKS creates a `gp2` class on the legacy in-tree provisioner, and
since Kubernetes 1.30 EKS no longer marks it default, so a PVC without a class
stays Pending. gp3 is cheaper than gp2 with a 3000 IOPS baseline and no burst
credits. The driver itself is the EKS managed add-on `aws-ebs-csi-driver`
(components/aws/eks.py, Pod Identity role); this module only adds the class.

* `encrypted: "true"` whatever the account's EBS encryption-by-default says;
* `WaitForFirstConsumer`: an EBS volume lives in one zone, so it is created in the
  zone the scheduler picked for the pod, never the other way round;
* `allowVolumeExpansion`: a full volume grows in place.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.addons.base import AddOn, AddOnError, ClusterContext
from components.k8s.release import platform_labels

NAME = "default-storage-class"
CLASS_NAME = "gp3-encrypted"
PROVISIONER = "ebs.csi.aws.com"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# The first EKS version whose gp2 class is not annotated default.
FIRST_VERSION_WITHOUT_DEFAULT_GP2 = (1, 30)


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def extras(ctx: ClusterContext, prefix: str, _release: k8s.helm.v3.Release | None,
           opts: pulumi.ResourceOptions) -> None:
    if _version(ctx.kubernetes_version) < FIRST_VERSION_WITHOUT_DEFAULT_GP2:
        # Two default classes make PVCs bind to whichever was created last.
        raise AddOnError(f"{NAME}: on Kubernetes {ctx.kubernetes_version} EKS marks gp2 "
                         "default too; use 1.30 or newer")
    k8s.storage.v1.StorageClass(
        prefix,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=CLASS_NAME,
            annotations={DEFAULT_ANNOTATION: "true"},
            labels=platform_labels(ctx.tier, NAME, ctx.labels)),
        provisioner=PROVISIONER,
        parameters={"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        reclaim_policy="Delete",
        opts=opts)


ADDON = AddOn(name=NAME, chart=None, namespace="kube-system", extras=extras)
