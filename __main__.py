"""hastack: an HA workflow-orchestration platform per stack (see README.md)."""

from pathlib import Path

from hastack.program import main

# The project directory is where this file is, whatever the working directory.
main(Path(__file__).resolve().parent)
