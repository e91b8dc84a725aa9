"""`hastack failover`: move the active region of an environment (see README, "Runbook")."""
