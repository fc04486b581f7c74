"""Failures of the roam API as one exception carrying the RFC 9457 problem."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx


class RoamError(Exception):
    """An answer that was not 2xx: ``status``, the problem's ``type``, ``title``, ``detail``
    and, for invalid input, ``errors`` (one ``{"path", "message"}`` per bad field)."""

    def __init__(self, status: int, problem: Dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type: str = str(problem.get("type", "about:blank"))
        self.title: str = str(problem.get("title", httpx.codes.get_reason_phrase(status)))
        self.detail: Optional[str] = problem.get("detail")
        self.errors: List[Dict[str, Any]] = list(problem.get("errors") or [])
        super().__init__(f"{self.title}: {self.detail}" if self.detail else self.title)

    @classmethod
    def from_response(cls, response: httpx.Response) -> "RoamError":
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"title": response.reason_phrase, "detail": response.text[:500] or None}
        return cls(response.status_code, body)
