"""The package type-checks under mypy --strict, generated models and operations included."""

from pathlib import Path

from mypy import api


def test_the_package_is_strictly_typed() -> None:
    package = Path(__file__).resolve().parent.parent / "roam_client"
    stdout, stderr, status = api.run(["--strict", "--no-incremental", "--cache-dir", "/dev/null", str(package)])
    assert status == 0, stdout + stderr
