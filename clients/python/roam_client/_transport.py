"""The HTTP side shared by the async and blocking clients: auth, retries on 429, problems."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

import httpx

from .errors import RoamError

DEFAULT_URL = "http://127.0.0.1:8000"


def settings(base_url: Optional[str], api_key: Optional[str]) -> Tuple[str, Dict[str, str]]:
    """The base URL and headers: arguments first, then ``ROAM_URL`` / ``ROAM_API_KEY``."""
    url = (base_url or os.environ.get("ROAM_URL") or DEFAULT_URL).rstrip("/")
    key = api_key or os.environ.get("ROAM_API_KEY")
    return url, ({"authorization": f"Bearer {key}"} if key else {})


def build_path(template: str, params: Dict[str, Any]) -> str:
    path = template
    for name, value in params.items():
        # A wildcard (`*path`) keeps its slashes; every other parameter is one segment.
        safe = "/" if name == "path" else ""
        path = path.replace("{" + name + "}", quote(str(value), safe=safe))
    return path


def clean(values: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before retrying a 429: its ``Retry-After``, else a short backoff."""
    header = response.headers.get("retry-after")
    try:
        return max(0.0, float(header)) if header is not None else min(8.0, 0.25 * 2.0**attempt)
    except ValueError:
        return min(8.0, 0.25 * 2.0**attempt)


def result(response: httpx.Response, returns: str) -> Any:
    if response.status_code >= 400:
        raise RoamError.from_response(response)
    if returns == "json":
        return response.json()
    if returns == "none":
        return None
    return response


def sse_events(lines: List[str]) -> Iterator[Tuple[str, str, Optional[str]]]:
    """Parses complete Server-Sent Events lines (one message) into (event, data, id)."""
    event = ""
    data: List[str] = []
    ident: Optional[str] = None
    for line in lines:
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            ident = value
    if data or event:
        yield event or "message", "\n".join(data), ident


async def async_send(
    client: httpx.AsyncClient, request: httpx.Request, retries: int
) -> httpx.Response:
    for attempt in range(retries + 1):
        response = await client.send(request)
        if response.status_code != 429 or attempt == retries:
            return response
        await response.aclose()
        await asyncio.sleep(retry_after(response, attempt))
    raise AssertionError("unreachable")


def sync_send(client: httpx.Client, request: httpx.Request, retries: int) -> httpx.Response:
    for attempt in range(retries + 1):
        response = client.send(request)
        if response.status_code != 429 or attempt == retries:
            return response
        response.close()
        time.sleep(retry_after(response, attempt))
    raise AssertionError("unreachable")
