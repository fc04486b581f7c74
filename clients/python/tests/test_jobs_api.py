"""JobsAPI and SyncJobsAPI against a running roam (gateway, scheduler, reconciler, storage)."""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any, Awaitable, Callable, List, Optional, TypeVar

import pytest

from roam_client import JobsAPI, RoamError, SyncJobsAPI

T = TypeVar("T")
SEED_EXAMPLE = '''
from roam_client import JobsAPI
client = JobsAPI(base_url="http://controller.local:8000")
job = await client.submit_job(image="python:3.12", command=["python", "-c", "print('hello world')"],
                              resources={"cpu": "100m", "memory": "128Mi"})
'''
DEADLINE_SECONDS = 60


async def eventually(what: str, probe: Callable[[], Awaitable[Optional[T]]]) -> T:
    """Polls ``probe`` until it returns something other than None (bounded; names what failed)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def follow(client: JobsAPI, job_id: str) -> List[str]:
    """The whole log, followed live (stream_logs waits for the pod itself)."""
    return [line async for line in client.stream_logs(job_id, wait=DEADLINE_SECONDS)]


async def finished(client: JobsAPI, job_id: str) -> dict[str, Any]:
    async def probe() -> Optional[dict[str, Any]]:
        job = await client.get_job(job_id)
        return dict(job) if job["status"] in ("succeeded", "failed", "cancelled") else None

    return await eventually(f"{job_id} to finish", probe)


async def test_the_seed_example_runs_verbatim() -> None:
    # The ROAM controller's README example, with only the host changed to the running roam
    # (the key comes from ROAM_API_KEY).
    code = SEED_EXAMPLE.replace("http://controller.local:8000", os.environ["ROAM_URL"])
    scope: dict[str, Any] = {}
    exec(compile(f"async def example():\n" + "".join(f"    {line}\n" for line in code.strip().splitlines()) + "    return client, job\n", "<seed>", "exec"), scope)
    client, job = await scope["example"]()
    async with client:
        assert job["spec"]["image"] == "python:3.12"
        assert job["spec"]["resources"]["memory"] == "128Mi"
        assert job["status"] == "pending"
        lines = [line async for line in client.stream_logs(job["id"])]
        assert any("print('hello world')" in line for line in lines)
        end = await finished(client, job["id"])
        assert end["status"] == "succeeded"


async def test_submit_follow_list_results_and_cancel() -> None:
    async with JobsAPI() as client:
        tag = uuid.uuid4().hex[:8]
        job = await client.submit_job(
            image="busybox",
            command=["sh", "-c", "echo one; echo two; echo 42 > /roam/results/answer.txt"],
            resources={"cpu": "100m", "memory": "64Mi"},
            name=f"py-{tag}",
            labels={"run": tag},
        )
        assert job["name"] == f"py-{tag}"
        assert await follow(client, job["id"]) == ["one", "two"]
        assert await client.get_logs(job["id"]) == "one\ntwo\n"
        assert await client.get_logs(job["id"], tail=1) == "two\n"
        listed = await client.list_jobs(label_selector=f"run={tag}")
        assert [j["id"] for j in listed] == [job["id"]]
        # The log ends when the pod does; the job's own record may follow a moment later.
        assert (await finished(client, job["id"]))["status"] == "succeeded"
        timeline = [event["phase"] for event in await client.get_job_events(job["id"])]
        assert timeline[0] == "Submitted" and timeline[-1] == "Succeeded"

        async def results() -> Optional[dict[str, Any]]:
            listing = await client.get_results(job["id"])
            return dict(listing) if listing["files"] else None

        listing = await eventually("the results", results)
        assert [f["name"] for f in listing["files"]] == ["answer.txt"]
        assert listing["files"][0]["size"] == 3

        sleeper = await client.submit_job(image="busybox", command=["sleep", "100000"], resources={"cpu": "100m", "memory": "64Mi"})
        cancelled = await client.cancel_job(sleeper["id"])
        assert cancelled["status"] == "cancelled"
        with pytest.raises(RoamError) as missing:
            await client.get_job(str(uuid.UUID(int=0)))
        assert missing.value.status == 404
        assert "not-found" in missing.value.type


async def test_downloads_results_and_uploads_inputs(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("scenario/config.txt", "steps=10\n")
    async with JobsAPI() as client:
        job = await client.submit_job(
            image="busybox",
            command=["sh", "-c", "echo hi > /roam/results/out.txt"],
            resources={"cpu": "100m", "memory": "64Mi"},
            inputs=archive.getvalue(),
        )
        assert (await finished(client, job["id"]))["status"] == "succeeded"

        async def stored() -> Optional[bool]:
            return True if (await client.get_results(job["id"]))["files"] else None

        await eventually("the results", stored)
        one = await client.download_results(job["id"], tmp_path / "out.txt", path="out.txt")
        assert one.read_text() == "hi\n"
        every = await client.download_results(job["id"], tmp_path / "all.zip")
        with zipfile.ZipFile(every) as zf:
            assert zf.read("out.txt") == b"hi\n"


async def test_invalid_input_is_a_typed_error_and_a_repeated_key_is_one_job() -> None:
    async with JobsAPI() as client:
        with pytest.raises(RoamError) as invalid:
            await client.submit_job(image="", command=[])
        assert invalid.value.status == 400
        assert invalid.value.errors, "every bad field is listed"
        key = f"py-{uuid.uuid4()}"
        spec = dict(image="busybox", command=["sleep", "100000"], resources={"cpu": "100m", "memory": "64Mi"})
        first = await client.submit_job(**spec, idempotency_key=key)
        again = await client.submit_job(**spec, idempotency_key=key)
        assert again["id"] == first["id"]
        await client.cancel_job(first["id"])
        # The generated operations are there too, typed from the OpenAPI document.
        me = await client.tenants_me()
        assert me["tenant_id"]
    with pytest.raises(RoamError) as unauthorised:
        async with JobsAPI(api_key="sk-not-a-key") as stranger:
            await stranger.list_jobs()
    assert unauthorised.value.status == 401


def test_the_sync_twin() -> None:
    with SyncJobsAPI() as client:
        job = client.submit_job(
            image="busybox", command=["sh", "-c", "echo sync"], resources={"cpu": "100m", "memory": "64Mi"}
        )
        assert client.get_job(job["id"])["id"] == job["id"]
        assert list(client.stream_logs(job["id"], wait=DEADLINE_SECONDS)) == ["sync"]
        assert client.get_logs(job["id"]) == "sync\n"
        assert job["id"] in [j["id"] for j in client.list_jobs(limit=50)]
        sleeper = client.submit_job(image="busybox", command=["sleep", "100000"], resources={"cpu": "100m", "memory": "64Mi"})
        assert client.cancel_job(sleeper["id"])["status"] == "cancelled"
        with pytest.raises(RoamError) as missing:
            client.get_job(str(uuid.UUID(int=0)))
        assert missing.value.status == 404
