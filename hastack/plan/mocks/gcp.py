"""Mock outputs and data sources for pulumi-gcp resources.

IDs follow the shapes the real provider returns (`projects/<p>/locations/<l>/...`),
because components pass them on (a key ID into `database_encryption.key_name`,
a network ID into `private_network`) and tests read the region back out of them.
Addresses and certificates are derived from the resource's digest: deterministic,
and obviously fake.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hastack.config.regions import GCP_REGION_ZONES, zones_of
from hastack.plan.mocks import (
    PREFIX_OUTPUT_RULES,
    InvokeFailure,
    MockContext,
    invoke,
    outputs_for,
)

PROJECT_NUMBER = "123456789012"
# Service agent domains by API, for `ServiceIdentity`.
_AGENT_DOMAINS = {
    "sqladmin.googleapis.com": "gcp-sa-cloud-sql.iam.gserviceaccount.com",
    "container.googleapis.com": "container-engine-robot.iam.gserviceaccount.com",
    "redis.googleapis.com": "cloud-redis.iam.gserviceaccount.com",
    "secretmanager.googleapis.com": "gcp-sa-secretmanager.iam.gserviceaccount.com",
}


def _project(context: MockContext) -> str:
    return str(context.inputs.get("project") or context.project or "mock-project")


def _name(context: MockContext) -> str:
    return str(context.inputs.get("name") or f"{context.name}-{context.digest(7)}")


def _private_ip(context: MockContext, first_octet: int = 10) -> str:
    raw = hashlib.sha256(context.digest(32).encode()).digest()
    return f"{first_octet}.{raw[0]}.{raw[1]}.{max(2, raw[2] % 250)}"


def _fake_pem(context: MockContext, label: str) -> str:
    return (f"-----BEGIN CERTIFICATE-----\nMOCK{label.upper()}{context.digest(40)}\n"
            f"-----END CERTIFICATE-----\n")


def _generic(context: MockContext) -> dict[str, Any]:
    name = _name(context)
    project = _project(context)
    location = context.inputs.get("location") or context.inputs.get("region") or context.region
    return {
        "id": f"projects/{project}/locations/{location}/{context.name}",
        "name": name,
        "selfLink": f"https://www.googleapis.com/mock/v1/projects/{project}/{name}",
        "project": project,
    }


PREFIX_OUTPUT_RULES.append(("gcp:", _generic))


def _with_self_link(path: str, api: str = "compute/v1") -> dict[str, Any]:
    return {"id": path, "selfLink": f"https://www.googleapis.com/{api}/{path}"}


# -- networking ------------------------------------------------------------------

@outputs_for("gcp:compute/network:Network")
def _network(context: MockContext) -> dict[str, Any]:
    return _with_self_link(f"projects/{_project(context)}/global/networks/{_name(context)}")


@outputs_for("gcp:compute/subnetwork:Subnetwork")
def _subnetwork(context: MockContext) -> dict[str, Any]:
    region = context.inputs.get("region") or context.region
    path = f"projects/{_project(context)}/regions/{region}/subnetworks/{_name(context)}"
    return {**_with_self_link(path), "gatewayAddress": "10.0.0.1"}


@outputs_for("gcp:compute/router:Router")
def _router(context: MockContext) -> dict[str, Any]:
    region = context.inputs.get("region") or context.region
    path = f"projects/{_project(context)}/regions/{region}/routers/{_name(context)}"
    return _with_self_link(path)


@outputs_for("gcp:compute/globalAddress:GlobalAddress")
def _global_address(context: MockContext) -> dict[str, Any]:
    return _with_self_link(f"projects/{_project(context)}/global/addresses/{_name(context)}")


@outputs_for("gcp:compute/address:Address")
def _address(context: MockContext) -> dict[str, Any]:
    """A regional reserved IP: external ones from TEST-NET-3 (RFC 5737), never routable."""
    region = context.inputs.get("region") or context.region
    raw = hashlib.sha256(context.digest(32).encode()).digest()
    external = context.inputs.get("addressType", "EXTERNAL") == "EXTERNAL"
    address = f"203.0.113.{max(2, raw[0] % 250)}" if external else _private_ip(context)
    return {**_with_self_link(f"projects/{_project(context)}/regions/{region}/addresses/"
                              f"{_name(context)}"), "address": address}


@outputs_for("gcp:compute/healthCheck:HealthCheck")
def _health_check(context: MockContext) -> dict[str, Any]:
    return _with_self_link(f"projects/{_project(context)}/global/healthChecks/{_name(context)}")


@outputs_for("gcp:servicenetworking/connection:Connection")
def _psa_connection(context: MockContext) -> dict[str, Any]:
    network = context.inputs.get("network", "")
    return {"id": f"{network}:{context.inputs.get('service')}",
            "peering": "servicenetworking-googleapis-com"}


# -- identity and keys -----------------------------------------------------------

@outputs_for("gcp:serviceaccount/account:Account")
def _service_account(context: MockContext) -> dict[str, Any]:
    project = _project(context)
    email = f"{context.inputs.get('accountId')}@{project}.iam.gserviceaccount.com"
    return {"id": f"projects/{project}/serviceAccounts/{email}", "email": email,
            "member": f"serviceAccount:{email}", "uniqueId": str(int(context.digest(12), 16))}


@outputs_for("gcp:projects/serviceIdentity:ServiceIdentity")
def _service_identity(context: MockContext) -> dict[str, Any]:
    service = str(context.inputs.get("service", ""))
    domain = _AGENT_DOMAINS.get(service, f"gcp-sa-{service.split('.')[0]}.iam.gserviceaccount.com")
    email = f"service-{PROJECT_NUMBER}@{domain}"
    return {"id": f"projects/{_project(context)}/services/{service}",
            "email": email, "member": f"serviceAccount:{email}"}


@outputs_for("gcp:kms/keyRing:KeyRing")
def _key_ring(context: MockContext) -> dict[str, Any]:
    location = context.inputs.get("location")
    return {"id": f"projects/{_project(context)}/locations/{location}/keyRings/{_name(context)}"}


@outputs_for("gcp:kms/cryptoKey:CryptoKey")
def _crypto_key(context: MockContext) -> dict[str, Any]:
    return {"id": f"{context.inputs.get('keyRing')}/cryptoKeys/{_name(context)}",
            "primaries": [{"name": "1", "state": "ENABLED"}]}


# -- compute ---------------------------------------------------------------------

@outputs_for("gcp:container/cluster:Cluster")
def _cluster(context: MockContext) -> dict[str, Any]:
    location = context.inputs.get("location") or context.region
    private = context.inputs.get("privateClusterConfig") or {}
    endpoint = _private_ip(context, 172) if not private.get("enablePrivateEndpoint") else (
        str(private.get("masterIpv4CidrBlock", "10.0.0.0/28")).rsplit(".", 1)[0] + ".2")
    return {
        "id": f"projects/{_project(context)}/locations/{location}/clusters/{_name(context)}",
        "endpoint": endpoint,
        "masterVersion": f"{context.inputs.get('minMasterVersion', '1.33')}.1-gke.100",
        "masterAuth": {"clusterCaCertificate": _fake_pem(context, "gke-ca"),
                       "clientCertificateConfig": {"issueClientCertificate": False}},
        "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {
            "endpoint": f"gke-{context.digest(12)}.{location}.gke.goog"}},
    }


@outputs_for("gcp:container/nodePool:NodePool")
def _node_pool(context: MockContext) -> dict[str, Any]:
    return {"id": f"{context.inputs.get('cluster')}/nodePools/{_name(context)}",
            "instanceGroupUrls": []}


# -- data ------------------------------------------------------------------------

@outputs_for("gcp:sql/databaseInstance:DatabaseInstance")
def _sql_instance(context: MockContext) -> dict[str, Any]:
    region = context.inputs.get("region") or context.region
    name = _name(context)
    ip = _private_ip(context)
    return {
        "id": name,
        "connectionName": f"{_project(context)}:{region}:{name}",
        "privateIpAddress": ip,
        "ipAddresses": [{"ipAddress": ip, "type": "PRIVATE"}],
        "serverCaCerts": [{"cert": _fake_pem(context, "sql-ca")}],
        "instanceType": ("READ_REPLICA_INSTANCE" if context.inputs.get("masterInstanceName")
                         else "CLOUD_SQL_INSTANCE"),
    }


@outputs_for("gcp:redis/instance:Instance")
def _redis(context: MockContext) -> dict[str, Any]:
    tls = context.inputs.get("transitEncryptionMode") == "SERVER_AUTHENTICATION"
    return {
        "id": f"projects/{_project(context)}/locations/{context.inputs.get('region')}"
              f"/instances/{_name(context)}",
        "host": _private_ip(context),
        "port": 6378 if tls else 6379,
        "readEndpoint": _private_ip(context, 11),
        "readEndpointPort": 6378 if tls else 6379,
        "authString": f"mock-redis-auth-{context.digest(24)}",
        "serverCaCerts": [{"cert": _fake_pem(context, "redis-ca"), "serialNumber": "1"}],
    }


@outputs_for("gcp:storage/bucket:Bucket")
def _bucket(context: MockContext) -> dict[str, Any]:
    name = _name(context)
    return {"id": name, "url": f"gs://{name}",
            "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}"}


@outputs_for("gcp:secretmanager/secret:Secret")
def _secret(context: MockContext) -> dict[str, Any]:
    secret_id = context.inputs.get("secretId")
    return {"id": f"projects/{_project(context)}/secrets/{secret_id}",
            "name": f"projects/{PROJECT_NUMBER}/secrets/{secret_id}"}


@outputs_for("gcp:secretmanager/secretVersion:SecretVersion")
def _secret_version(context: MockContext) -> dict[str, Any]:
    return {"id": f"{context.inputs.get('secret')}/versions/1", "version": "1"}


@outputs_for("gcp:dns/recordSet:RecordSet")
def _record_set(context: MockContext) -> dict[str, Any]:
    return {"id": f"projects/{_project(context)}/managedZones/{context.inputs.get('managedZone')}"
                  f"/rrsets/{context.inputs.get('name')}/{context.inputs.get('type')}"}


# -- data sources ----------------------------------------------------------------

@invoke("gcp:compute/getZones:getZones")
def _zones(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    region = args.get("region") or context.region or "us-central1"
    names = zones_of("gcp", region) if region in GCP_REGION_ZONES else [f"{region}-a"]
    return {"names": names, "id": region, "region": region,
            "project": args.get("project") or context.project}


@invoke("gcp:organizations/getProject:getProject")
def _project_info(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    project = args.get("projectId") or context.project or "mock-project"
    return {"projectId": project, "number": PROJECT_NUMBER, "name": project, "id": project}


@invoke("gcp:organizations/getClientConfig:getClientConfig")
def _client_config(_args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    return {"project": context.project or "mock-project", "region": context.region or "",
            "accessToken": "mock-access-token", "id": "client-config", "zone": ""}


@invoke("gcp:storage/getProjectServiceAccount:getProjectServiceAccount")
def _storage_agent(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    email = f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
    return {"emailAddress": email, "member": f"serviceAccount:{email}",
            "project": args.get("project") or context.project, "id": email}


# The Cloud DNS managed zones the offline project has (the stack files' and the tests'),
# by name, with the domain each serves. Any other name fails as the provider does.
EXISTING_MANAGED_ZONES = {
    "example-com": "example.com.",
    "gcp-example-com": "gcp.example.com.",
    "dev-gcp-example-com": "dev.gcp.example.com.",
    "other-zone": "other.example.net.",
}


@invoke("gcp:dns/getManagedZone:getManagedZone")
def _managed_zone(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    name = str(args.get("name", ""))
    if name not in EXISTING_MANAGED_ZONES:
        raise InvokeFailure("name", f"googleapi: Error 404: The 'parameters.managedZone' "
                                    f"resource named '{name}' does not exist., notFound")
    project = args.get("project") or context.project
    return {"name": name, "dnsName": EXISTING_MANAGED_ZONES[name],
            "managedZoneId": str(int(hashlib.sha256(name.encode()).hexdigest()[:12], 16)),
            "nameServers": [f"ns-cloud-a{i}.googledomains.com." for i in range(1, 5)],
            "visibility": "public", "project": project,
            "id": f"projects/{project}/managedZones/{name}",
            "description": "", "labels": {}}


@outputs_for("gcp:dns/managedZone:ManagedZone")
def _created_zone(context: MockContext) -> dict[str, Any]:
    return {"nameServers": [f"ns-cloud-b{i}.googledomains.com." for i in range(1, 5)],
            "managedZoneId": str(int(context.digest(12), 16))}


@outputs_for("gcp:certificatemanager/dnsAuthorization:DnsAuthorization")
def _dns_authorization(context: MockContext) -> dict[str, Any]:
    """PER_PROJECT_RECORD: the CNAME depends on the project and the domain, not the region."""
    domain = str(context.inputs.get("domain", ""))
    token = hashlib.sha256(f"{_project(context)}|{domain}".encode()).hexdigest()[:16]
    location = context.inputs.get("location") or "global"
    return {"id": f"projects/{_project(context)}/locations/{location}/dnsAuthorizations/"
                  f"{context.inputs.get('name')}",
            "type": "PER_PROJECT_RECORD",
            "dnsResourceRecords": [{
                "name": f"_acme-challenge_{token}.{domain}.", "type": "CNAME",
                "data": f"{token}.9.authorize.certificatemanager.goog."}]}


@outputs_for("gcp:certificatemanager/certificate:Certificate")
def _certificate(context: MockContext) -> dict[str, Any]:
    location = context.inputs.get("location") or "global"
    return {"id": f"projects/{_project(context)}/locations/{location}/certificates/"
                  f"{context.inputs.get('name')}"}
