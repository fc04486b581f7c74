"""``JobsAPI``: the calls the ROAM controller's generated client offered, on roam.

Every method of the generated ``AsyncOperations`` (one per API operation) is there too, e.g.
``await client.webhooks_list()``. ``SyncJobsAPI`` is the blocking twin.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Mapping, Optional, Sequence, Union, cast

import httpx

from ._generated.models import Job, JobEvent, ResultList
from ._generated.operations import AsyncOperations, SyncOperations
from ._transport import async_send, build_path, clean, result, settings, sse_events, sync_send
from .errors import RoamError

Inputs = Union[str, Path, bytes]
# How long stream_logs waits for a pending job's pod (the API answers 409 until there is one).
POD_WAIT_SECONDS = 300.0
POD_POLL_SECONDS = 0.5


def _spec(
    image: Optional[str],
    command: Optional[Sequence[str]],
    resources: Optional[Mapping[str, Any]],
    fields: Dict[str, Any],
) -> Dict[str, Any]:
    spec: Dict[str, Any] = {"image": image, "command": list(command) if command is not None else None}
    spec["resources"] = dict(resources) if resources is not None else None
    return clean({**spec, **fields})


def _multipart(spec: Dict[str, Any], inputs: Inputs) -> Dict[str, Any]:
    if isinstance(inputs, bytes):
        name, data = "inputs.zip", inputs
    else:
        name, data = Path(inputs).name, Path(inputs).read_bytes()
    return {
        "spec": (None, json.dumps(spec), "application/json"),
        "inputs": (name, data, "application/octet-stream"),
    }


class JobsAPI(AsyncOperations):
    """The roam API, async. ``base_url`` defaults to ``ROAM_URL``, ``api_key`` to
    ``ROAM_API_KEY``. A 429 is retried after its ``Retry-After`` (``retries`` times); any
    other failure raises :class:`RoamError`. Use as ``async with JobsAPI(...) as client``
    or call ``await client.aclose()``."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        retries: int = 3,
        timeout: float = 30.0,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        self.base_url, headers = settings(base_url, api_key)
        self.retries = retries
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> "JobsAPI":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        path_params: Dict[str, Any],
        query: Dict[str, Any],
        headers: Dict[str, Any],
        json: Any = None,
        returns: str,
    ) -> Any:
        request = self._http.build_request(
            method,
            build_path(path, path_params),
            params=clean(query),
            headers=clean(headers),
            json=json,
        )
        return result(await async_send(self._http, request, self.retries), returns)

    async def submit_job(
        self,
        image: Optional[str] = None,
        command: Optional[Sequence[str]] = None,
        resources: Optional[Mapping[str, Any]] = None,
        *,
        inputs: Optional[Inputs] = None,
        idempotency_key: Optional[str] = None,
        **fields: Any,
    ) -> Job:
        """Submits a job (the JobSpec's fields as keywords: ``name``, ``env``, ``labels``,
        ``queue``, ``priority``, ``template``, …). ``inputs`` (a zip path or its bytes) is
        uploaded with it. An ``Idempotency-Key`` is always sent (fresh unless given), so a
        retried call never makes a second job."""
        spec = _spec(image, command, resources, fields)
        headers = {"idempotency-key": idempotency_key or str(uuid.uuid4())}
        if inputs is None:
            request = self._http.build_request("POST", "/api/v1/jobs", json=spec, headers=headers)
        else:
            request = self._http.build_request(
                "POST", "/api/v1/jobs", files=_multipart(spec, inputs), headers=headers
            )
        return result(await async_send(self._http, request, self.retries), "json")  # type: ignore[no-any-return]

    async def get_job(self, job_id: str) -> Job:
        return await self.jobs_get(job_id)

    async def list_jobs(
        self,
        *,
        status: Optional[str] = None,
        queue: Optional[str] = None,
        label_selector: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[Job]:
        """Jobs newest first, every page (at most ``limit`` jobs when given)."""
        return [job async for job in self.iter_jobs(status=status, queue=queue, label_selector=label_selector, limit=limit)]

    async def iter_jobs(
        self,
        *,
        status: Optional[str] = None,
        queue: Optional[str] = None,
        label_selector: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[Job]:
        cursor: Optional[str] = None
        seen = 0
        while True:
            page_size = min(200, limit - seen) if limit is not None else 200
            page = await self.jobs_list(
                status=status, queue=queue, label_selector=label_selector, limit=page_size, cursor=cursor
            )
            for job in page["items"]:
                yield job
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def cancel_job(self, job_id: str) -> Job:
        return await self.jobs_cancel(job_id)

    async def get_job_events(self, job_id: str) -> List[JobEvent]:
        """The job's timeline, oldest first."""
        return cast(List[JobEvent], (await self.jobs_events(job_id))["items"])

    async def get_logs(self, job_id: str, *, tail: Optional[int] = None) -> str:
        """The log as it is now (the last ``tail`` lines when given)."""
        response = await self.logs_read(job_id, tail=tail, follow="false")
        return response.text

    async def stream_logs(
        self, job_id: str, *, tail: Optional[int] = None, wait: float = POD_WAIT_SECONDS
    ) -> AsyncIterator[str]:
        """The log line by line, live until the pod ends (Server-Sent Events). A job that has
        no pod yet (409) is waited for, up to ``wait`` seconds."""
        path = build_path("/api/v1/jobs/{id}/logs/stream", {"id": job_id})
        deadline = time.monotonic() + wait
        while True:
            request = self._http.build_request(
                "GET", path, params=clean({"tail": tail}), headers={"accept": "text/event-stream"}
            )
            response = await self._http.send(request, stream=True)
            if response.status_code != 409 or time.monotonic() >= deadline:
                break
            await response.aclose()
            await asyncio.sleep(POD_POLL_SECONDS)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise RoamError.from_response(response)
            block: List[str] = []
            async for line in response.aiter_lines():
                if line:
                    block.append(line)
                    continue
                for event, data, _ in sse_events(block):
                    if event == "message":
                        yield data
                    elif event == "end":
                        return
                    elif event == "closed":
                        raise RoamError(response.status_code, {"title": "Stream closed by the server", **json.loads(data)})
                block = []
        finally:
            await response.aclose()

    async def get_results(self, job_id: str) -> ResultList:
        """The job's result files: name, size, sha256, content type, download URL."""
        return await self.results_list(job_id)

    async def download_results(self, job_id: str, target: Union[str, Path], path: Optional[str] = None) -> Path:
        """Writes one result file (``path``), or every file as one zip, to ``target``."""
        route = "/api/v1/jobs/{id}/results/{path}" if path else "/api/v1/jobs/{id}/results.zip"
        url = build_path(route, clean({"id": job_id, "path": path}))
        request = self._http.build_request("GET", url, params={"redirect": "false"} if path else None)
        response = await self._http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise RoamError.from_response(response)
            with open(target, "wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
        finally:
            await response.aclose()
        return Path(target)


class SyncJobsAPI(SyncOperations):
    """The blocking twin of :class:`JobsAPI`: the same calls, without ``await``."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        retries: int = 3,
        timeout: float = 30.0,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        self.base_url, headers = settings(base_url, api_key)
        self.retries = retries
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> "SyncJobsAPI":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        path_params: Dict[str, Any],
        query: Dict[str, Any],
        headers: Dict[str, Any],
        json: Any = None,
        returns: str,
    ) -> Any:
        request = self._http.build_request(
            method, build_path(path, path_params), params=clean(query), headers=clean(headers), json=json
        )
        return result(sync_send(self._http, request, self.retries), returns)

    def submit_job(
        self,
        image: Optional[str] = None,
        command: Optional[Sequence[str]] = None,
        resources: Optional[Mapping[str, Any]] = None,
        *,
        inputs: Optional[Inputs] = None,
        idempotency_key: Optional[str] = None,
        **fields: Any,
    ) -> Job:
        spec = _spec(image, command, resources, fields)
        headers = {"idempotency-key": idempotency_key or str(uuid.uuid4())}
        if inputs is None:
            request = self._http.build_request("POST", "/api/v1/jobs", json=spec, headers=headers)
        else:
            request = self._http.build_request("POST", "/api/v1/jobs", files=_multipart(spec, inputs), headers=headers)
        return result(sync_send(self._http, request, self.retries), "json")  # type: ignore[no-any-return]

    def get_job(self, job_id: str) -> Job:
        return self.jobs_get(job_id)

    def list_jobs(
        self,
        *,
        status: Optional[str] = None,
        queue: Optional[str] = None,
        label_selector: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[Job]:
        return list(self.iter_jobs(status=status, queue=queue, label_selector=label_selector, limit=limit))

    def iter_jobs(
        self,
        *,
        status: Optional[str] = None,
        queue: Optional[str] = None,
        label_selector: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Iterator[Job]:
        cursor: Optional[str] = None
        seen = 0
        while True:
            page_size = min(200, limit - seen) if limit is not None else 200
            page = self.jobs_list(status=status, queue=queue, label_selector=label_selector, limit=page_size, cursor=cursor)
            for job in page["items"]:
                yield job
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def cancel_job(self, job_id: str) -> Job:
        return self.jobs_cancel(job_id)

    def get_job_events(self, job_id: str) -> List[JobEvent]:
        return cast(List[JobEvent], self.jobs_events(job_id)["items"])

    def get_logs(self, job_id: str, *, tail: Optional[int] = None) -> str:
        return self.logs_read(job_id, tail=tail, follow="false").text

    def stream_logs(
        self, job_id: str, *, tail: Optional[int] = None, wait: float = POD_WAIT_SECONDS
    ) -> Iterator[str]:
        path = build_path("/api/v1/jobs/{id}/logs/stream", {"id": job_id})
        deadline = time.monotonic() + wait
        while True:
            request = self._http.build_request(
                "GET", path, params=clean({"tail": tail}), headers={"accept": "text/event-stream"}
            )
            response = self._http.send(request, stream=True)
            if response.status_code != 409 or time.monotonic() >= deadline:
                break
            response.close()
            time.sleep(POD_POLL_SECONDS)
        try:
            if response.status_code >= 400:
                response.read()
                raise RoamError.from_response(response)
            block: List[str] = []
            for line in response.iter_lines():
                if line:
                    block.append(line)
                    continue
                for event, data, _ in sse_events(block):
                    if event == "message":
                        yield data
                    elif event == "end":
                        return
                    elif event == "closed":
                        raise RoamError(response.status_code, {"title": "Stream closed by the server", **json.loads(data)})
                block = []
        finally:
            response.close()

    def get_results(self, job_id: str) -> ResultList:
        return self.results_list(job_id)

    def download_results(self, job_id: str, target: Union[str, Path], path: Optional[str] = None) -> Path:
        route = "/api/v1/jobs/{id}/results/{path}" if path else "/api/v1/jobs/{id}/results.zip"
        url = build_path(route, clean({"id": job_id, "path": path}))
        request = self._http.build_request("GET", url, params={"redirect": "false"} if path else None)
        response = self._http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise RoamError.from_response(response)
            with open(target, "wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        finally:
            response.close()
        return Path(target)
