"""Generate an orchestrator's own credentials once per environment (see `AppCredentials`)."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_random as random

from components.base import rotation_keepers
from components.k8s.wiring import AppCredentials

# PostgreSQL role and database of each orchestrator: never the master user, and a
# database of its own, which it owns (migrations create and alter its tables) while
# holding no privilege anywhere else.
DATABASE_ROLES: dict[str, str] = {"prefect": "prefect_app", "argo": "argo_app"}
DATABASE_NAMES: dict[str, str] = {"prefect": "prefect", "argo": "argo"}
API_AUTH_USER = "admin"  # the user name prefect-helm's basic auth documents


def _password(name: str, parent: pulumi.Resource, rotation: str | None = None
              ) -> pulumi.Output[str]:
    # Letters and digits only: the value goes into URLs and `user:password` strings.
    generated = random.RandomPassword(name, length=40, special=False,
                                      keepers=rotation_keepers(rotation),
                                      opts=pulumi.ResourceOptions(parent=parent))
    return pulumi.Output.secret(generated.result)


def app_credentials(name: str, orchestrator: Literal["prefect", "argo"],
                    parent: pulumi.Resource, *,
                    database_rotation: str | None = None) -> AppCredentials:
    """Database role, database and (Prefect) API password for `orchestrator`.

    `database_rotation` (the stack's `database.credentialsRotation`) rotates the
    role's password together with the master password: the role Job re-sets it on
    every deploy and the pods roll with the same label (`credentials_revision`).
    The API password is shared with people and external workers, so it changes only
    when its resource is replaced on purpose (`pulumi up --replace`).
    """
    return AppCredentials(
        database_role=DATABASE_ROLES[orchestrator],
        database_name=DATABASE_NAMES[orchestrator],
        database_password=_password(f"{name}-{orchestrator}-db-password", parent,
                                    database_rotation),
        api_password=(_password(f"{name}-prefect-api-password", parent)
                      if orchestrator == "prefect" else None),
    )


def stored_entries(orchestrator: Literal["prefect", "argo"], credentials: AppCredentials
                   ) -> dict[str, pulumi.Input[str]]:
    """What the cloud's secret manager keeps for the orchestrator (one JSON document)."""
    entries: dict[str, pulumi.Input[str]] = {
        "orchestrator": orchestrator,
        "databaseRole": credentials.database_role,
        "databaseName": credentials.database_name,
        "databasePassword": credentials.database_password,
    }
    if credentials.api_password is not None:
        entries["apiUser"] = API_AUTH_USER
        entries["apiPassword"] = credentials.api_password
    return entries


# Keys of the infrastructure stack's `workloadsSecrets` entry that carry them.
DATABASE_PASSWORD_KEY = "appDatabasePassword"
API_PASSWORD_KEY = "apiPassword"


def credential_secrets(credentials: AppCredentials) -> dict[str, pulumi.Output[str]]:
    """What the infrastructure stack exports (inside its secret output) for one region."""
    entries = {DATABASE_PASSWORD_KEY: credentials.database_password}
    if credentials.api_password is not None:
        entries[API_PASSWORD_KEY] = credentials.api_password
    return entries


def from_secrets(orchestrator: Literal["prefect", "argo"], secrets: pulumi.Output[Any]
                 ) -> AppCredentials:
    """The workloads stack's view of them, read from that secret output."""
    def pick(key: str) -> pulumi.Output[str]:
        return pulumi.Output.secret(secrets.apply(lambda s: s[key]))

    return AppCredentials(
        database_role=DATABASE_ROLES[orchestrator],
        database_name=DATABASE_NAMES[orchestrator],
        database_password=pick(DATABASE_PASSWORD_KEY),
        api_password=pick(API_PASSWORD_KEY) if orchestrator == "prefect" else None,
    )
