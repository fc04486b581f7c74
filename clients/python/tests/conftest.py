"""The suite runs against a running roam: ROAM_URL and ROAM_API_KEY (a tenant's key) must be
set, as test/clients/python.test.ts does when it starts the stack and runs pytest."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def roam_env() -> None:
    missing = [name for name in ("ROAM_URL", "ROAM_API_KEY") if not os.environ.get(name)]
    if missing:
        pytest.exit(f"set {', '.join(missing)} to a running roam and a tenant's API key", returncode=4)
