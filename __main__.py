"""hastack: an HA workflow-orchestration platform per stack (see README.md)."""

from hastack.program import main

main()
