# Generated from clients/openapi.json by clients/python/scripts/generate.mjs: do not edit.
# `pnpm clients:generate` rewrites it; `pnpm check` fails when it is stale.
"""One typed method per operation of the roam API (operationId in snake_case)."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Union

import httpx

from .models import *  # noqa: F403


class AsyncOperations:
    """Every roam API operation, async; `_call` is the transport."""

    async def _call(self, method: str, path: str, *, path_params: Dict[str, Any], query: Dict[str, Any], headers: Dict[str, Any], json: Any = None, returns: str) -> Any:  # noqa: E501
        raise NotImplementedError

    async def actions_compat_submit(self, body: ActionRequest, *, wait: Optional[float] = None, idempotency_key: Optional[str] = None) -> ActionResponse:
        "POST /actions: Run a node-pool action (failover controller route)"
        return await self._call("POST", "/actions", path_params={}, query={"wait": wait}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def actions_get(self, id: str) -> ActionView:
        "GET /api/v1/actions/{id}: An action: state, plan, steps, outcome and timestamps"
        return await self._call("GET", "/api/v1/actions/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def actions_list(self, *, type: Optional[Literal["cordon_nodepool", "cordon_nodepool_and_restart_jobset", "cordon_and_repair_nodepool", "repair_nodepool", "uncordon_nodepool"]] = None, node_pool: Optional[str] = None, requestor: Optional[str] = None, state: Optional[Literal["pending", "running", "succeeded", "failed"]] = None, since: Optional[str] = None, until: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ActionPage:
        "GET /api/v1/actions: Audit log of actions, newest first"
        return await self._call("GET", "/api/v1/actions", path_params={}, query={"type": type, "node_pool": node_pool, "requestor": requestor, "state": state, "since": since, "until": until, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def actions_submit(self, body: ActionRequest, *, wait: Optional[float] = None, idempotency_key: Optional[str] = None) -> ActionResponse:
        "POST /api/v1/actions: Run a node-pool action"
        return await self._call("POST", "/api/v1/actions", path_params={}, query={"wait": wait}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def admin_activity(self) -> AdminActivity:
        "GET /admin/activity: Cluster activity: nodes, pods by phase, Kubernetes Jobs, roam jobs by status (SUMO-K8)"
        return await self._call("GET", "/admin/activity", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def admin_cluster(self) -> AdminCluster:
        "GET /admin/cluster: Cluster nodes: conditions, capacity, allocatable, running pods (SUMO-K8)"
        return await self._call("GET", "/admin/cluster", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def admin_jobs(self, *, status: Optional[str] = None, tenant_id: Optional[str] = None, limit: Optional[int] = None) -> AdminJobs:
        "GET /admin/jobs: Every tenant's jobs with their Kubernetes Job status (SUMO-K8)"
        return await self._call("GET", "/admin/jobs", path_params={}, query={"status": status, "tenant_id": tenant_id, "limit": limit}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def admin_keys_create(self, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> IssuedApiKey:
        "POST /api/v1/admin/keys: Issue an admin API key"
        return await self._call("POST", "/api/v1/admin/keys", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def admin_keys_list(self) -> Dict[str, Any]:
        "GET /api/v1/admin/keys: List admin API keys"
        return await self._call("GET", "/api/v1/admin/keys", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def admin_keys_revoke(self, key_id: str) -> None:
        "DELETE /api/v1/admin/keys/{keyId}: Revoke an admin API key"
        return await self._call("DELETE", "/api/v1/admin/keys/{keyId}", path_params={"keyId": key_id}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    async def array_results_index(self, id: str) -> httpx.Response:
        "GET /api/v1/arrays/{id}/index.csv: An array’s elements as a CSV index"
        return await self._call("GET", "/api/v1/arrays/{id}/index.csv", path_params={"id": id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def array_results_zip(self, id: str) -> httpx.Response:
        "GET /api/v1/arrays/{id}/results.zip: Every element’s results as one zip"
        return await self._call("GET", "/api/v1/arrays/{id}/results.zip", path_params={"id": id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def arrays_cancel(self, id: str) -> JobArrayCancel:
        "DELETE /api/v1/arrays/{id}: Cancel every unfinished element of an array"
        return await self._call("DELETE", "/api/v1/arrays/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def arrays_element(self, id: str, index: int) -> Job:
        "GET /api/v1/jobs/{id}/elements/{index}: One element of an array"
        return await self._call("GET", "/api/v1/jobs/{id}/elements/{index}", path_params={"id": id, "index": index}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def arrays_element_of_array(self, id: str, index: int) -> Job:
        "GET /api/v1/arrays/{id}/elements/{index}: One element of an array"
        return await self._call("GET", "/api/v1/arrays/{id}/elements/{index}", path_params={"id": id, "index": index}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def arrays_elements(self, id: str, *, status: Optional[Literal["pending", "running", "succeeded", "failed", "cancelled"]] = None, limit: Optional[int] = None, cursor: Optional[int] = None) -> JobArrayElementPage:
        "GET /api/v1/arrays/{id}/elements: An array’s elements, by index"
        return await self._call("GET", "/api/v1/arrays/{id}/elements", path_params={"id": id}, query={"status": status, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def arrays_get(self, id: str) -> JobArray:
        "GET /api/v1/arrays/{id}: An array’s summary: elements per phase and progress"
        return await self._call("GET", "/api/v1/arrays/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def arrays_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> JobArrayPage:
        "GET /api/v1/arrays: List your job arrays, newest first, each with its counts per phase"
        return await self._call("GET", "/api/v1/arrays", path_params={}, query={"limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def arrays_retry(self, id: str, *, idempotency_key: Optional[str] = None) -> JobArrayRetry:
        "POST /api/v1/arrays/{id}/retry: Run an array’s failed elements again"
        return await self._call("POST", "/api/v1/arrays/{id}/retry", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    async def arrays_submit(self, body: Union[Dict[str, Any], TemplateSubmit], *, idempotency_key: Optional[str] = None) -> JobArray:
        "POST /api/v1/arrays: Submit a job array"
        return await self._call("POST", "/api/v1/arrays", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def compat_auth_get(self, id: str) -> Tenant:
        "GET /auth/tenants/{id}: Read a tenant (SUMO-K8)"
        return await self._call("GET", "/auth/tenants/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def compat_auth_regenerate(self, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        "POST /auth/regenerate-key: Replace an API key (SUMO-K8)"
        return await self._call("POST", "/auth/regenerate-key", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def compat_auth_register(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> RegisteredTenant:
        "POST /auth/register: Register a tenant (SUMO-K8)"
        return await self._call("POST", "/auth/register", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def compat_auth_update(self, id: str, body: Dict[str, Any]) -> Tenant:
        "PATCH /auth/tenants/{id}: Change a tenant's limits (SUMO-K8)"
        return await self._call("PATCH", "/auth/tenants/{id}", path_params={"id": id}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    async def compat_dashboard_dashboard(self) -> TenantDashboard:
        "GET /tenants/me/dashboard: The calling tenant's limits, quota usage and jobs (SUMO-K8)"
        return await self._call("GET", "/tenants/me/dashboard", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def compat_health_ready(self) -> Dict[str, Any]:
        "GET /ready: Readiness (SUMO-K8); 503 naming what is unreachable"
        return await self._call("GET", "/ready", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def compat_health_status(self) -> Dict[str, Any]:
        "GET /health: Health with the state of each dependency (SUMO-K8, ROAM job API)"
        return await self._call("GET", "/health", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def compat_jobs_form_submit(self, body: SeedJobForm, *, idempotency_key: Optional[str] = None) -> SeedJobAccepted:
        "POST /jobs: Submit a SUMO simulation (SUMO-K8)"
        return await self._call("POST", "/jobs", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def compat_jobs_get(self, job_id: str) -> SeedJob:
        "GET /jobs/{job_id}: Job status (SUMO-K8)"
        return await self._call("GET", "/jobs/{job_id}", path_params={"job_id": job_id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def compat_jobs_logs_of(self, job_id: str) -> SeedLogs:
        "GET /jobs/{job_id}/logs: The last 500 lines of a job's log (SUMO-K8)"
        return await self._call("GET", "/jobs/{job_id}/logs", path_params={"job_id": job_id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def compat_jobs_stream(self, job_id: str) -> httpx.Response:
        "GET /jobs/{job_id}/logs/stream: Stream a job's log as Server-Sent Events (SUMO-K8)"
        return await self._call("GET", "/jobs/{job_id}/logs/stream", path_params={"job_id": job_id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def compat_results_file(self, job_id: str, path: str, *, redirect: Optional[Literal["true", "false"]] = None) -> httpx.Response:
        "GET /jobs/{job_id}/results/{path}: Download one result file (SUMO-K8)"
        return await self._call("GET", "/jobs/{job_id}/results/{path}", path_params={"job_id": job_id, "path": path}, query={"redirect": redirect}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def compat_results_list(self, job_id: str, *, replica: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ResultList:
        "GET /jobs/{job_id}/results: Get a job's result files (SUMO-K8)"
        return await self._call("GET", "/jobs/{job_id}/results", path_params={"job_id": job_id}, query={"replica": replica, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def compat_results_zip(self, job_id: str) -> httpx.Response:
        "GET /jobs/{job_id}/results.zip: Download all of a job's results as one zip (SUMO-K8)"
        return await self._call("GET", "/jobs/{job_id}/results.zip", path_params={"job_id": job_id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def events_list(self, *, type: Optional[Union[str, List[str]]] = None, group: Optional[str] = None, after: Optional[str] = None, cursor: Optional[str] = None, limit: Optional[int] = None) -> EventPage:
        "GET /api/v1/events: Your events, oldest first"
        return await self._call("GET", "/api/v1/events", path_params={}, query={"type": type, "group": group, "after": after, "cursor": cursor, "limit": limit}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def events_stream(self, *, type: Optional[Union[str, List[str]]] = None, group: Optional[str] = None, after: Optional[str] = None) -> httpx.Response:
        "GET /api/v1/events/stream: Your events as Server-Sent Events"
        return await self._call("GET", "/api/v1/events/stream", path_params={}, query={"type": type, "group": group, "after": after}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def group_results_index(self, name: str) -> httpx.Response:
        "GET /api/v1/groups/{name}/index.csv: A group’s jobs as a CSV index"
        return await self._call("GET", "/api/v1/groups/{name}/index.csv", path_params={"name": name}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def group_results_zip(self, name: str) -> httpx.Response:
        "GET /api/v1/groups/{name}/results.zip: Every group job’s results as one zip"
        return await self._call("GET", "/api/v1/groups/{name}/results.zip", path_params={"name": name}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def groups_cancel(self, name: str) -> JobGroupCancel:
        "DELETE /api/v1/groups/{name}: Cancel every unfinished job of a group"
        return await self._call("DELETE", "/api/v1/groups/{name}", path_params={"name": name}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def groups_get(self, name: str) -> JobGroup:
        "GET /api/v1/groups/{name}: Summary of a job group: jobs per phase"
        return await self._call("GET", "/api/v1/groups/{name}", path_params={"name": name}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def groups_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> JobGroupPage:
        "GET /api/v1/groups: List your job groups, by name"
        return await self._call("GET", "/api/v1/groups", path_params={}, query={"limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def health_live(self) -> Dict[str, Any]:
        "GET /health/live: Liveness: the process answers"
        return await self._call("GET", "/health/live", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def health_ready(self) -> Readiness:
        "GET /health/ready: Readiness: Postgres and NATS answer and every consumer loop pulls; 503 naming what is down"
        return await self._call("GET", "/health/ready", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def job_deliveries_list(self, id: str, *, limit: Optional[int] = None) -> JobWebhookDeliveries:
        "GET /api/v1/jobs/{id}/deliveries: Webhook deliveries of a job's events, newest first, with their attempts"
        return await self._call("GET", "/api/v1/jobs/{id}/deliveries", path_params={"id": id}, query={"limit": limit}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def jobs_batch_submit(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> JobBatchResult:
        "POST /api/v1/jobs:batch: Submit many jobs at once, all or nothing"
        return await self._call("POST", "/api/v1/jobs:batch", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def jobs_cancel(self, id: str) -> Job:
        "DELETE /api/v1/jobs/{id}: Cancel a job"
        return await self._call("DELETE", "/api/v1/jobs/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def jobs_events(self, id: str) -> Dict[str, Any]:
        "GET /api/v1/jobs/{id}/events: A job's history of status and phase changes, oldest first"
        return await self._call("GET", "/api/v1/jobs/{id}/events", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def jobs_explain(self, id: str) -> JobExplanation:
        "GET /api/v1/jobs/{id}/explain: Explain why a job is still pending"
        return await self._call("GET", "/api/v1/jobs/{id}/explain", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def jobs_get(self, id: str) -> Job:
        "GET /api/v1/jobs/{id}: Read a job"
        return await self._call("GET", "/api/v1/jobs/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def jobs_list(self, *, status: Optional[str] = None, queue: Optional[str] = None, group: Optional[str] = None, array: Optional[str] = None, label_selector: Optional[str] = None, created_since: Optional[str] = None, created_until: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> JobPage:
        "GET /api/v1/jobs: List jobs, newest first"
        return await self._call("GET", "/api/v1/jobs", path_params={}, query={"status": status, "queue": queue, "group": group, "array": array, "labelSelector": label_selector, "created_since": created_since, "created_until": created_until, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def jobs_status(self, id: str) -> JobStatus:
        "GET /api/v1/jobs/{id}/status: A job's state, without its spec"
        return await self._call("GET", "/api/v1/jobs/{id}/status", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def jobs_submit(self, body: Union[JobSpecInput, TemplateSubmit], *, idempotency_key: Optional[str] = None) -> Job:
        "POST /api/v1/jobs: Submit a job"
        return await self._call("POST", "/api/v1/jobs", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def logs_read(self, id: str, *, tail: Optional[int] = None, since: Optional[str] = None, attempt: Optional[int] = None, replica: Optional[str] = None, timestamps: Optional[Literal["0", "1", "true", "false"]] = None, follow: Optional[Literal["0", "1", "true", "false"]] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/logs: Read or follow a job's log"
        return await self._call("GET", "/api/v1/jobs/{id}/logs", path_params={"id": id}, query={"tail": tail, "since": since, "attempt": attempt, "replica": replica, "timestamps": timestamps, "follow": follow}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def logs_stream(self, id: str, *, tail: Optional[int] = None, since: Optional[str] = None, attempt: Optional[int] = None, replica: Optional[str] = None, timestamps: Optional[Literal["0", "1", "true", "false"]] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/logs/stream: Stream a job's log as Server-Sent Events"
        return await self._call("GET", "/api/v1/jobs/{id}/logs/stream", path_params={"id": id}, query={"tail": tail, "since": since, "attempt": attempt, "replica": replica, "timestamps": timestamps}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def metrics_scrape(self) -> httpx.Response:
        "GET /metrics: Prometheus metrics of this process"
        return await self._call("GET", "/metrics", path_params={}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def open_api_asset(self, file: Literal["init.js", "swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"]) -> httpx.Response:
        "GET /docs/assets/{file}: Static files of the docs page"
        return await self._call("GET", "/docs/assets/{file}", path_params={"file": file}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def open_api_docs(self) -> httpx.Response:
        "GET /docs: Interactive API docs (Swagger UI, served from the package)"
        return await self._call("GET", "/docs", path_params={}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def open_api_document(self) -> Dict[str, Any]:
        "GET /openapi.json: This OpenAPI 3.1 document"
        return await self._call("GET", "/openapi.json", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def operator_insights_get_offload(self) -> OffloadOverview:
        "GET /api/v1/admin/offload: RunPod offloads: recent pods, the prices they run at, spend per tenant"
        return await self._call("GET", "/api/v1/admin/offload", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def operator_insights_get_queue(self, *, hours: Optional[int] = None, buckets: Optional[int] = None) -> QueueSeries:
        "GET /api/v1/admin/queue: The admission queue over time: jobs waiting per tenant, admissions, oldest waits"
        return await self._call("GET", "/api/v1/admin/queue", path_params={}, query={"hours": hours, "buckets": buckets}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def parked_list(self, *, limit: Optional[int] = None, outbox_after: Optional[str] = None, dead_letter_after: Optional[int] = None) -> Parked:
        "GET /api/v1/admin/parked: Messages the platform gave up on: parked outbox rows and dead letters, with reasons"
        return await self._call("GET", "/api/v1/admin/parked", path_params={}, query={"limit": limit, "outbox_after": outbox_after, "dead_letter_after": dead_letter_after}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def parked_retry(self, id: str, *, idempotency_key: Optional[str] = None) -> Requeued:
        "POST /api/v1/admin/parked/{id}/retry: Put a parked outbox message back in the relay queue with a fresh attempt budget"
        return await self._call("POST", "/api/v1/admin/parked/{id}/retry", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    async def pipelines_cancel(self, id: str) -> Pipeline:
        "DELETE /api/v1/pipelines/{id}: Cancel a pipeline"
        return await self._call("DELETE", "/api/v1/pipelines/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def pipelines_get(self, id: str) -> Pipeline:
        "GET /api/v1/pipelines/{id}: A pipeline: its steps with their status and counts"
        return await self._call("GET", "/api/v1/pipelines/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def pipelines_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None, state: Optional[Literal["running", "succeeded", "failed", "cancelled"]] = None) -> PipelinePage:
        "GET /api/v1/pipelines: List your pipelines, newest first"
        return await self._call("GET", "/api/v1/pipelines", path_params={}, query={"limit": limit, "cursor": cursor, "state": state}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def pipelines_submit(self, body: PipelineSubmit, *, idempotency_key: Optional[str] = None) -> Pipeline:
        "POST /api/v1/pipelines: Submit a pipeline"
        return await self._call("POST", "/api/v1/pipelines", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def priority_classes_list(self) -> PriorityClasses:
        "GET /api/v1/priority-classes: Priority classes a JobSpec may name: the built-in low, normal, high and any defined"
        return await self._call("GET", "/api/v1/priority-classes", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def priority_classes_replace(self, body: Dict[str, Any]) -> PriorityClasses:
        "PUT /api/v1/admin/priority-classes: Replace the admin-defined priority classes (at most 32, values -1000 to 1000)"
        return await self._call("PUT", "/api/v1/admin/priority-classes", path_params={}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    async def results_file(self, id: str, path: str, *, redirect: Optional[Literal["true", "false"]] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/results/{path}: Download one result file"
        return await self._call("GET", "/api/v1/jobs/{id}/results/{path}", path_params={"id": id, "path": path}, query={"redirect": redirect}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def results_list(self, id: str, *, replica: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ResultList:
        "GET /api/v1/jobs/{id}/results: List a job's result files"
        return await self._call("GET", "/api/v1/jobs/{id}/results", path_params={"id": id}, query={"replica": replica, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def results_remove(self, id: str) -> DeletedResults:
        "DELETE /api/v1/jobs/{id}/results: Delete a job's results"
        return await self._call("DELETE", "/api/v1/jobs/{id}/results", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def results_zip(self, id: str, *, replica: Optional[str] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/results.zip: Download all of a job's results as one zip"
        return await self._call("GET", "/api/v1/jobs/{id}/results.zip", path_params={"id": id}, query={"replica": replica}, headers={}, returns="response")  # type: ignore[no-any-return]

    async def templates_create(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> Template:
        "POST /api/v1/templates: Create a template"
        return await self._call("POST", "/api/v1/templates", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def templates_delete(self, name: str) -> None:
        "DELETE /api/v1/templates/{name}: Delete one of your templates"
        return await self._call("DELETE", "/api/v1/templates/{name}", path_params={"name": name}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    async def templates_get(self, name: str) -> Template:
        "GET /api/v1/templates/{name}: Read a template (yours, else the built-in of that name)"
        return await self._call("GET", "/api/v1/templates/{name}", path_params={"name": name}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def templates_list(self) -> Dict[str, Any]:
        "GET /api/v1/templates: List your templates and the built-ins"
        return await self._call("GET", "/api/v1/templates", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def templates_replace(self, name: str, body: Dict[str, Any]) -> Template:
        "PUT /api/v1/templates/{name}: Replace the spec of one of your templates"
        return await self._call("PUT", "/api/v1/templates/{name}", path_params={"name": name}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    async def tenants_create(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> RegisteredTenant:
        "POST /api/v1/tenants: Register a tenant and get its first API key"
        return await self._call("POST", "/api/v1/tenants", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def tenants_create_key(self, id: str, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> IssuedApiKey:
        "POST /api/v1/tenants/{id}/keys: Issue another API key for a tenant"
        return await self._call("POST", "/api/v1/tenants/{id}/keys", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def tenants_get(self, id: str) -> Tenant:
        "GET /api/v1/tenants/{id}: Read a tenant (itself, or any for an admin)"
        return await self._call("GET", "/api/v1/tenants/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def tenants_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Dict[str, Any]:
        "GET /api/v1/tenants: List tenants, with what each holds of its quota now"
        return await self._call("GET", "/api/v1/tenants", path_params={}, query={"limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def tenants_list_keys(self, id: str) -> Dict[str, Any]:
        "GET /api/v1/tenants/{id}/keys: List a tenant's API keys"
        return await self._call("GET", "/api/v1/tenants/{id}/keys", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def tenants_me(self) -> Tenant:
        "GET /api/v1/tenants/me: The calling tenant"
        return await self._call("GET", "/api/v1/tenants/me", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def tenants_remove(self, id: str) -> Tenant:
        "DELETE /api/v1/tenants/{id}: Delete a tenant (refused while it has pending or running jobs)"
        return await self._call("DELETE", "/api/v1/tenants/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def tenants_revoke_key(self, id: str, key_id: str) -> None:
        "DELETE /api/v1/tenants/{id}/keys/{keyId}: Revoke one of a tenant's API keys"
        return await self._call("DELETE", "/api/v1/tenants/{id}/keys/{keyId}", path_params={"id": id, "keyId": key_id}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    async def tenants_update(self, id: str, body: Dict[str, Any]) -> Tenant:
        "PATCH /api/v1/tenants/{id}: Change a tenant's limits"
        return await self._call("PATCH", "/api/v1/tenants/{id}", path_params={"id": id}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    async def usage_get(self, *, hours: Optional[int] = None, buckets: Optional[int] = None) -> UsageSeries:
        "GET /api/v1/usage/series: Your quota use over time, and your fair-share position now"
        return await self._call("GET", "/api/v1/usage/series", path_params={}, query={"hours": hours, "buckets": buckets}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_create(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> WebhookWithSecret:
        "POST /api/v1/webhooks: Add a webhook endpoint"
        return await self._call("POST", "/api/v1/webhooks", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def webhooks_delete(self, id: str) -> None:
        "DELETE /api/v1/webhooks/{id}: Delete a webhook endpoint and its deliveries"
        return await self._call("DELETE", "/api/v1/webhooks/{id}", path_params={"id": id}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    async def webhooks_deliveries(self, id: str, *, status: Optional[Literal["pending", "succeeded", "failed"]] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> Dict[str, Any]:
        "GET /api/v1/webhooks/{id}/deliveries: List an endpoint’s deliveries, newest first, with their attempts"
        return await self._call("GET", "/api/v1/webhooks/{id}/deliveries", path_params={"id": id}, query={"status": status, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_get(self, id: str) -> Webhook:
        "GET /api/v1/webhooks/{id}: Read a webhook endpoint"
        return await self._call("GET", "/api/v1/webhooks/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_list(self) -> Dict[str, Any]:
        "GET /api/v1/webhooks: List your webhook endpoints"
        return await self._call("GET", "/api/v1/webhooks", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_pause(self, id: str, *, idempotency_key: Optional[str] = None) -> Webhook:
        "POST /api/v1/webhooks/{id}/pause: Pause deliveries to an endpoint"
        return await self._call("POST", "/api/v1/webhooks/{id}/pause", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_redeliver(self, id: str, delivery_id: str, *, idempotency_key: Optional[str] = None) -> WebhookDelivery:
        "POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver: Deliver an event again"
        return await self._call("POST", "/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver", path_params={"id": id, "deliveryId": delivery_id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_resume(self, id: str, *, idempotency_key: Optional[str] = None) -> Webhook:
        "POST /api/v1/webhooks/{id}/resume: Resume a paused endpoint, or re-enable a disabled one"
        return await self._call("POST", "/api/v1/webhooks/{id}/resume", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_rotate_secret(self, id: str, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> WebhookWithSecret:
        "POST /api/v1/webhooks/{id}/rotate-secret: Rotate an endpoint’s signing secret"
        return await self._call("POST", "/api/v1/webhooks/{id}/rotate-secret", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    async def webhooks_test(self, id: str, *, idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        "POST /api/v1/webhooks/{id}/test: Send a `webhook.test` event to an endpoint"
        return await self._call("POST", "/api/v1/webhooks/{id}/test", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    async def webhooks_update(self, id: str, body: Dict[str, Any]) -> Webhook:
        "PATCH /api/v1/webhooks/{id}: Change a webhook endpoint’s URL, events or description"
        return await self._call("PATCH", "/api/v1/webhooks/{id}", path_params={"id": id}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]


class SyncOperations:
    """Every roam API operation, blocking; `_call` is the transport."""

    def _call(self, method: str, path: str, *, path_params: Dict[str, Any], query: Dict[str, Any], headers: Dict[str, Any], json: Any = None, returns: str) -> Any:  # noqa: E501
        raise NotImplementedError

    def actions_compat_submit(self, body: ActionRequest, *, wait: Optional[float] = None, idempotency_key: Optional[str] = None) -> ActionResponse:
        "POST /actions: Run a node-pool action (failover controller route)"
        return self._call("POST", "/actions", path_params={}, query={"wait": wait}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def actions_get(self, id: str) -> ActionView:
        "GET /api/v1/actions/{id}: An action: state, plan, steps, outcome and timestamps"
        return self._call("GET", "/api/v1/actions/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def actions_list(self, *, type: Optional[Literal["cordon_nodepool", "cordon_nodepool_and_restart_jobset", "cordon_and_repair_nodepool", "repair_nodepool", "uncordon_nodepool"]] = None, node_pool: Optional[str] = None, requestor: Optional[str] = None, state: Optional[Literal["pending", "running", "succeeded", "failed"]] = None, since: Optional[str] = None, until: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ActionPage:
        "GET /api/v1/actions: Audit log of actions, newest first"
        return self._call("GET", "/api/v1/actions", path_params={}, query={"type": type, "node_pool": node_pool, "requestor": requestor, "state": state, "since": since, "until": until, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def actions_submit(self, body: ActionRequest, *, wait: Optional[float] = None, idempotency_key: Optional[str] = None) -> ActionResponse:
        "POST /api/v1/actions: Run a node-pool action"
        return self._call("POST", "/api/v1/actions", path_params={}, query={"wait": wait}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def admin_activity(self) -> AdminActivity:
        "GET /admin/activity: Cluster activity: nodes, pods by phase, Kubernetes Jobs, roam jobs by status (SUMO-K8)"
        return self._call("GET", "/admin/activity", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def admin_cluster(self) -> AdminCluster:
        "GET /admin/cluster: Cluster nodes: conditions, capacity, allocatable, running pods (SUMO-K8)"
        return self._call("GET", "/admin/cluster", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def admin_jobs(self, *, status: Optional[str] = None, tenant_id: Optional[str] = None, limit: Optional[int] = None) -> AdminJobs:
        "GET /admin/jobs: Every tenant's jobs with their Kubernetes Job status (SUMO-K8)"
        return self._call("GET", "/admin/jobs", path_params={}, query={"status": status, "tenant_id": tenant_id, "limit": limit}, headers={}, returns="json")  # type: ignore[no-any-return]

    def admin_keys_create(self, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> IssuedApiKey:
        "POST /api/v1/admin/keys: Issue an admin API key"
        return self._call("POST", "/api/v1/admin/keys", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def admin_keys_list(self) -> Dict[str, Any]:
        "GET /api/v1/admin/keys: List admin API keys"
        return self._call("GET", "/api/v1/admin/keys", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def admin_keys_revoke(self, key_id: str) -> None:
        "DELETE /api/v1/admin/keys/{keyId}: Revoke an admin API key"
        return self._call("DELETE", "/api/v1/admin/keys/{keyId}", path_params={"keyId": key_id}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    def array_results_index(self, id: str) -> httpx.Response:
        "GET /api/v1/arrays/{id}/index.csv: An array’s elements as a CSV index"
        return self._call("GET", "/api/v1/arrays/{id}/index.csv", path_params={"id": id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def array_results_zip(self, id: str) -> httpx.Response:
        "GET /api/v1/arrays/{id}/results.zip: Every element’s results as one zip"
        return self._call("GET", "/api/v1/arrays/{id}/results.zip", path_params={"id": id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def arrays_cancel(self, id: str) -> JobArrayCancel:
        "DELETE /api/v1/arrays/{id}: Cancel every unfinished element of an array"
        return self._call("DELETE", "/api/v1/arrays/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def arrays_element(self, id: str, index: int) -> Job:
        "GET /api/v1/jobs/{id}/elements/{index}: One element of an array"
        return self._call("GET", "/api/v1/jobs/{id}/elements/{index}", path_params={"id": id, "index": index}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def arrays_element_of_array(self, id: str, index: int) -> Job:
        "GET /api/v1/arrays/{id}/elements/{index}: One element of an array"
        return self._call("GET", "/api/v1/arrays/{id}/elements/{index}", path_params={"id": id, "index": index}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def arrays_elements(self, id: str, *, status: Optional[Literal["pending", "running", "succeeded", "failed", "cancelled"]] = None, limit: Optional[int] = None, cursor: Optional[int] = None) -> JobArrayElementPage:
        "GET /api/v1/arrays/{id}/elements: An array’s elements, by index"
        return self._call("GET", "/api/v1/arrays/{id}/elements", path_params={"id": id}, query={"status": status, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def arrays_get(self, id: str) -> JobArray:
        "GET /api/v1/arrays/{id}: An array’s summary: elements per phase and progress"
        return self._call("GET", "/api/v1/arrays/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def arrays_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> JobArrayPage:
        "GET /api/v1/arrays: List your job arrays, newest first, each with its counts per phase"
        return self._call("GET", "/api/v1/arrays", path_params={}, query={"limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def arrays_retry(self, id: str, *, idempotency_key: Optional[str] = None) -> JobArrayRetry:
        "POST /api/v1/arrays/{id}/retry: Run an array’s failed elements again"
        return self._call("POST", "/api/v1/arrays/{id}/retry", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    def arrays_submit(self, body: Union[Dict[str, Any], TemplateSubmit], *, idempotency_key: Optional[str] = None) -> JobArray:
        "POST /api/v1/arrays: Submit a job array"
        return self._call("POST", "/api/v1/arrays", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def compat_auth_get(self, id: str) -> Tenant:
        "GET /auth/tenants/{id}: Read a tenant (SUMO-K8)"
        return self._call("GET", "/auth/tenants/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def compat_auth_regenerate(self, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        "POST /auth/regenerate-key: Replace an API key (SUMO-K8)"
        return self._call("POST", "/auth/regenerate-key", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def compat_auth_register(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> RegisteredTenant:
        "POST /auth/register: Register a tenant (SUMO-K8)"
        return self._call("POST", "/auth/register", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def compat_auth_update(self, id: str, body: Dict[str, Any]) -> Tenant:
        "PATCH /auth/tenants/{id}: Change a tenant's limits (SUMO-K8)"
        return self._call("PATCH", "/auth/tenants/{id}", path_params={"id": id}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    def compat_dashboard_dashboard(self) -> TenantDashboard:
        "GET /tenants/me/dashboard: The calling tenant's limits, quota usage and jobs (SUMO-K8)"
        return self._call("GET", "/tenants/me/dashboard", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def compat_health_ready(self) -> Dict[str, Any]:
        "GET /ready: Readiness (SUMO-K8); 503 naming what is unreachable"
        return self._call("GET", "/ready", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def compat_health_status(self) -> Dict[str, Any]:
        "GET /health: Health with the state of each dependency (SUMO-K8, ROAM job API)"
        return self._call("GET", "/health", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def compat_jobs_form_submit(self, body: SeedJobForm, *, idempotency_key: Optional[str] = None) -> SeedJobAccepted:
        "POST /jobs: Submit a SUMO simulation (SUMO-K8)"
        return self._call("POST", "/jobs", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def compat_jobs_get(self, job_id: str) -> SeedJob:
        "GET /jobs/{job_id}: Job status (SUMO-K8)"
        return self._call("GET", "/jobs/{job_id}", path_params={"job_id": job_id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def compat_jobs_logs_of(self, job_id: str) -> SeedLogs:
        "GET /jobs/{job_id}/logs: The last 500 lines of a job's log (SUMO-K8)"
        return self._call("GET", "/jobs/{job_id}/logs", path_params={"job_id": job_id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def compat_jobs_stream(self, job_id: str) -> httpx.Response:
        "GET /jobs/{job_id}/logs/stream: Stream a job's log as Server-Sent Events (SUMO-K8)"
        return self._call("GET", "/jobs/{job_id}/logs/stream", path_params={"job_id": job_id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def compat_results_file(self, job_id: str, path: str, *, redirect: Optional[Literal["true", "false"]] = None) -> httpx.Response:
        "GET /jobs/{job_id}/results/{path}: Download one result file (SUMO-K8)"
        return self._call("GET", "/jobs/{job_id}/results/{path}", path_params={"job_id": job_id, "path": path}, query={"redirect": redirect}, headers={}, returns="response")  # type: ignore[no-any-return]

    def compat_results_list(self, job_id: str, *, replica: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ResultList:
        "GET /jobs/{job_id}/results: Get a job's result files (SUMO-K8)"
        return self._call("GET", "/jobs/{job_id}/results", path_params={"job_id": job_id}, query={"replica": replica, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def compat_results_zip(self, job_id: str) -> httpx.Response:
        "GET /jobs/{job_id}/results.zip: Download all of a job's results as one zip (SUMO-K8)"
        return self._call("GET", "/jobs/{job_id}/results.zip", path_params={"job_id": job_id}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def events_list(self, *, type: Optional[Union[str, List[str]]] = None, group: Optional[str] = None, after: Optional[str] = None, cursor: Optional[str] = None, limit: Optional[int] = None) -> EventPage:
        "GET /api/v1/events: Your events, oldest first"
        return self._call("GET", "/api/v1/events", path_params={}, query={"type": type, "group": group, "after": after, "cursor": cursor, "limit": limit}, headers={}, returns="json")  # type: ignore[no-any-return]

    def events_stream(self, *, type: Optional[Union[str, List[str]]] = None, group: Optional[str] = None, after: Optional[str] = None) -> httpx.Response:
        "GET /api/v1/events/stream: Your events as Server-Sent Events"
        return self._call("GET", "/api/v1/events/stream", path_params={}, query={"type": type, "group": group, "after": after}, headers={}, returns="response")  # type: ignore[no-any-return]

    def group_results_index(self, name: str) -> httpx.Response:
        "GET /api/v1/groups/{name}/index.csv: A group’s jobs as a CSV index"
        return self._call("GET", "/api/v1/groups/{name}/index.csv", path_params={"name": name}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def group_results_zip(self, name: str) -> httpx.Response:
        "GET /api/v1/groups/{name}/results.zip: Every group job’s results as one zip"
        return self._call("GET", "/api/v1/groups/{name}/results.zip", path_params={"name": name}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def groups_cancel(self, name: str) -> JobGroupCancel:
        "DELETE /api/v1/groups/{name}: Cancel every unfinished job of a group"
        return self._call("DELETE", "/api/v1/groups/{name}", path_params={"name": name}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def groups_get(self, name: str) -> JobGroup:
        "GET /api/v1/groups/{name}: Summary of a job group: jobs per phase"
        return self._call("GET", "/api/v1/groups/{name}", path_params={"name": name}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def groups_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> JobGroupPage:
        "GET /api/v1/groups: List your job groups, by name"
        return self._call("GET", "/api/v1/groups", path_params={}, query={"limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def health_live(self) -> Dict[str, Any]:
        "GET /health/live: Liveness: the process answers"
        return self._call("GET", "/health/live", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def health_ready(self) -> Readiness:
        "GET /health/ready: Readiness: Postgres and NATS answer and every consumer loop pulls; 503 naming what is down"
        return self._call("GET", "/health/ready", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def job_deliveries_list(self, id: str, *, limit: Optional[int] = None) -> JobWebhookDeliveries:
        "GET /api/v1/jobs/{id}/deliveries: Webhook deliveries of a job's events, newest first, with their attempts"
        return self._call("GET", "/api/v1/jobs/{id}/deliveries", path_params={"id": id}, query={"limit": limit}, headers={}, returns="json")  # type: ignore[no-any-return]

    def jobs_batch_submit(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> JobBatchResult:
        "POST /api/v1/jobs:batch: Submit many jobs at once, all or nothing"
        return self._call("POST", "/api/v1/jobs:batch", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def jobs_cancel(self, id: str) -> Job:
        "DELETE /api/v1/jobs/{id}: Cancel a job"
        return self._call("DELETE", "/api/v1/jobs/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def jobs_events(self, id: str) -> Dict[str, Any]:
        "GET /api/v1/jobs/{id}/events: A job's history of status and phase changes, oldest first"
        return self._call("GET", "/api/v1/jobs/{id}/events", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def jobs_explain(self, id: str) -> JobExplanation:
        "GET /api/v1/jobs/{id}/explain: Explain why a job is still pending"
        return self._call("GET", "/api/v1/jobs/{id}/explain", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def jobs_get(self, id: str) -> Job:
        "GET /api/v1/jobs/{id}: Read a job"
        return self._call("GET", "/api/v1/jobs/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def jobs_list(self, *, status: Optional[str] = None, queue: Optional[str] = None, group: Optional[str] = None, array: Optional[str] = None, label_selector: Optional[str] = None, created_since: Optional[str] = None, created_until: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> JobPage:
        "GET /api/v1/jobs: List jobs, newest first"
        return self._call("GET", "/api/v1/jobs", path_params={}, query={"status": status, "queue": queue, "group": group, "array": array, "labelSelector": label_selector, "created_since": created_since, "created_until": created_until, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def jobs_status(self, id: str) -> JobStatus:
        "GET /api/v1/jobs/{id}/status: A job's state, without its spec"
        return self._call("GET", "/api/v1/jobs/{id}/status", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def jobs_submit(self, body: Union[JobSpecInput, TemplateSubmit], *, idempotency_key: Optional[str] = None) -> Job:
        "POST /api/v1/jobs: Submit a job"
        return self._call("POST", "/api/v1/jobs", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def logs_read(self, id: str, *, tail: Optional[int] = None, since: Optional[str] = None, attempt: Optional[int] = None, replica: Optional[str] = None, timestamps: Optional[Literal["0", "1", "true", "false"]] = None, follow: Optional[Literal["0", "1", "true", "false"]] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/logs: Read or follow a job's log"
        return self._call("GET", "/api/v1/jobs/{id}/logs", path_params={"id": id}, query={"tail": tail, "since": since, "attempt": attempt, "replica": replica, "timestamps": timestamps, "follow": follow}, headers={}, returns="response")  # type: ignore[no-any-return]

    def logs_stream(self, id: str, *, tail: Optional[int] = None, since: Optional[str] = None, attempt: Optional[int] = None, replica: Optional[str] = None, timestamps: Optional[Literal["0", "1", "true", "false"]] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/logs/stream: Stream a job's log as Server-Sent Events"
        return self._call("GET", "/api/v1/jobs/{id}/logs/stream", path_params={"id": id}, query={"tail": tail, "since": since, "attempt": attempt, "replica": replica, "timestamps": timestamps}, headers={}, returns="response")  # type: ignore[no-any-return]

    def metrics_scrape(self) -> httpx.Response:
        "GET /metrics: Prometheus metrics of this process"
        return self._call("GET", "/metrics", path_params={}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def open_api_asset(self, file: Literal["init.js", "swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"]) -> httpx.Response:
        "GET /docs/assets/{file}: Static files of the docs page"
        return self._call("GET", "/docs/assets/{file}", path_params={"file": file}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def open_api_docs(self) -> httpx.Response:
        "GET /docs: Interactive API docs (Swagger UI, served from the package)"
        return self._call("GET", "/docs", path_params={}, query={}, headers={}, returns="response")  # type: ignore[no-any-return]

    def open_api_document(self) -> Dict[str, Any]:
        "GET /openapi.json: This OpenAPI 3.1 document"
        return self._call("GET", "/openapi.json", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def operator_insights_get_offload(self) -> OffloadOverview:
        "GET /api/v1/admin/offload: RunPod offloads: recent pods, the prices they run at, spend per tenant"
        return self._call("GET", "/api/v1/admin/offload", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def operator_insights_get_queue(self, *, hours: Optional[int] = None, buckets: Optional[int] = None) -> QueueSeries:
        "GET /api/v1/admin/queue: The admission queue over time: jobs waiting per tenant, admissions, oldest waits"
        return self._call("GET", "/api/v1/admin/queue", path_params={}, query={"hours": hours, "buckets": buckets}, headers={}, returns="json")  # type: ignore[no-any-return]

    def parked_list(self, *, limit: Optional[int] = None, outbox_after: Optional[str] = None, dead_letter_after: Optional[int] = None) -> Parked:
        "GET /api/v1/admin/parked: Messages the platform gave up on: parked outbox rows and dead letters, with reasons"
        return self._call("GET", "/api/v1/admin/parked", path_params={}, query={"limit": limit, "outbox_after": outbox_after, "dead_letter_after": dead_letter_after}, headers={}, returns="json")  # type: ignore[no-any-return]

    def parked_retry(self, id: str, *, idempotency_key: Optional[str] = None) -> Requeued:
        "POST /api/v1/admin/parked/{id}/retry: Put a parked outbox message back in the relay queue with a fresh attempt budget"
        return self._call("POST", "/api/v1/admin/parked/{id}/retry", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    def pipelines_cancel(self, id: str) -> Pipeline:
        "DELETE /api/v1/pipelines/{id}: Cancel a pipeline"
        return self._call("DELETE", "/api/v1/pipelines/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def pipelines_get(self, id: str) -> Pipeline:
        "GET /api/v1/pipelines/{id}: A pipeline: its steps with their status and counts"
        return self._call("GET", "/api/v1/pipelines/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def pipelines_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None, state: Optional[Literal["running", "succeeded", "failed", "cancelled"]] = None) -> PipelinePage:
        "GET /api/v1/pipelines: List your pipelines, newest first"
        return self._call("GET", "/api/v1/pipelines", path_params={}, query={"limit": limit, "cursor": cursor, "state": state}, headers={}, returns="json")  # type: ignore[no-any-return]

    def pipelines_submit(self, body: PipelineSubmit, *, idempotency_key: Optional[str] = None) -> Pipeline:
        "POST /api/v1/pipelines: Submit a pipeline"
        return self._call("POST", "/api/v1/pipelines", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def priority_classes_list(self) -> PriorityClasses:
        "GET /api/v1/priority-classes: Priority classes a JobSpec may name: the built-in low, normal, high and any defined"
        return self._call("GET", "/api/v1/priority-classes", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def priority_classes_replace(self, body: Dict[str, Any]) -> PriorityClasses:
        "PUT /api/v1/admin/priority-classes: Replace the admin-defined priority classes (at most 32, values -1000 to 1000)"
        return self._call("PUT", "/api/v1/admin/priority-classes", path_params={}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    def results_file(self, id: str, path: str, *, redirect: Optional[Literal["true", "false"]] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/results/{path}: Download one result file"
        return self._call("GET", "/api/v1/jobs/{id}/results/{path}", path_params={"id": id, "path": path}, query={"redirect": redirect}, headers={}, returns="response")  # type: ignore[no-any-return]

    def results_list(self, id: str, *, replica: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ResultList:
        "GET /api/v1/jobs/{id}/results: List a job's result files"
        return self._call("GET", "/api/v1/jobs/{id}/results", path_params={"id": id}, query={"replica": replica, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def results_remove(self, id: str) -> DeletedResults:
        "DELETE /api/v1/jobs/{id}/results: Delete a job's results"
        return self._call("DELETE", "/api/v1/jobs/{id}/results", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def results_zip(self, id: str, *, replica: Optional[str] = None) -> httpx.Response:
        "GET /api/v1/jobs/{id}/results.zip: Download all of a job's results as one zip"
        return self._call("GET", "/api/v1/jobs/{id}/results.zip", path_params={"id": id}, query={"replica": replica}, headers={}, returns="response")  # type: ignore[no-any-return]

    def templates_create(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> Template:
        "POST /api/v1/templates: Create a template"
        return self._call("POST", "/api/v1/templates", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def templates_delete(self, name: str) -> None:
        "DELETE /api/v1/templates/{name}: Delete one of your templates"
        return self._call("DELETE", "/api/v1/templates/{name}", path_params={"name": name}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    def templates_get(self, name: str) -> Template:
        "GET /api/v1/templates/{name}: Read a template (yours, else the built-in of that name)"
        return self._call("GET", "/api/v1/templates/{name}", path_params={"name": name}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def templates_list(self) -> Dict[str, Any]:
        "GET /api/v1/templates: List your templates and the built-ins"
        return self._call("GET", "/api/v1/templates", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def templates_replace(self, name: str, body: Dict[str, Any]) -> Template:
        "PUT /api/v1/templates/{name}: Replace the spec of one of your templates"
        return self._call("PUT", "/api/v1/templates/{name}", path_params={"name": name}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    def tenants_create(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> RegisteredTenant:
        "POST /api/v1/tenants: Register a tenant and get its first API key"
        return self._call("POST", "/api/v1/tenants", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def tenants_create_key(self, id: str, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> IssuedApiKey:
        "POST /api/v1/tenants/{id}/keys: Issue another API key for a tenant"
        return self._call("POST", "/api/v1/tenants/{id}/keys", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def tenants_get(self, id: str) -> Tenant:
        "GET /api/v1/tenants/{id}: Read a tenant (itself, or any for an admin)"
        return self._call("GET", "/api/v1/tenants/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def tenants_list(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Dict[str, Any]:
        "GET /api/v1/tenants: List tenants, with what each holds of its quota now"
        return self._call("GET", "/api/v1/tenants", path_params={}, query={"limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def tenants_list_keys(self, id: str) -> Dict[str, Any]:
        "GET /api/v1/tenants/{id}/keys: List a tenant's API keys"
        return self._call("GET", "/api/v1/tenants/{id}/keys", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def tenants_me(self) -> Tenant:
        "GET /api/v1/tenants/me: The calling tenant"
        return self._call("GET", "/api/v1/tenants/me", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def tenants_remove(self, id: str) -> Tenant:
        "DELETE /api/v1/tenants/{id}: Delete a tenant (refused while it has pending or running jobs)"
        return self._call("DELETE", "/api/v1/tenants/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def tenants_revoke_key(self, id: str, key_id: str) -> None:
        "DELETE /api/v1/tenants/{id}/keys/{keyId}: Revoke one of a tenant's API keys"
        return self._call("DELETE", "/api/v1/tenants/{id}/keys/{keyId}", path_params={"id": id, "keyId": key_id}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    def tenants_update(self, id: str, body: Dict[str, Any]) -> Tenant:
        "PATCH /api/v1/tenants/{id}: Change a tenant's limits"
        return self._call("PATCH", "/api/v1/tenants/{id}", path_params={"id": id}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]

    def usage_get(self, *, hours: Optional[int] = None, buckets: Optional[int] = None) -> UsageSeries:
        "GET /api/v1/usage/series: Your quota use over time, and your fair-share position now"
        return self._call("GET", "/api/v1/usage/series", path_params={}, query={"hours": hours, "buckets": buckets}, headers={}, returns="json")  # type: ignore[no-any-return]

    def webhooks_create(self, body: Dict[str, Any], *, idempotency_key: Optional[str] = None) -> WebhookWithSecret:
        "POST /api/v1/webhooks: Add a webhook endpoint"
        return self._call("POST", "/api/v1/webhooks", path_params={}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def webhooks_delete(self, id: str) -> None:
        "DELETE /api/v1/webhooks/{id}: Delete a webhook endpoint and its deliveries"
        return self._call("DELETE", "/api/v1/webhooks/{id}", path_params={"id": id}, query={}, headers={}, returns="none")  # type: ignore[no-any-return]

    def webhooks_deliveries(self, id: str, *, status: Optional[Literal["pending", "succeeded", "failed"]] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> Dict[str, Any]:
        "GET /api/v1/webhooks/{id}/deliveries: List an endpoint’s deliveries, newest first, with their attempts"
        return self._call("GET", "/api/v1/webhooks/{id}/deliveries", path_params={"id": id}, query={"status": status, "limit": limit, "cursor": cursor}, headers={}, returns="json")  # type: ignore[no-any-return]

    def webhooks_get(self, id: str) -> Webhook:
        "GET /api/v1/webhooks/{id}: Read a webhook endpoint"
        return self._call("GET", "/api/v1/webhooks/{id}", path_params={"id": id}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def webhooks_list(self) -> Dict[str, Any]:
        "GET /api/v1/webhooks: List your webhook endpoints"
        return self._call("GET", "/api/v1/webhooks", path_params={}, query={}, headers={}, returns="json")  # type: ignore[no-any-return]

    def webhooks_pause(self, id: str, *, idempotency_key: Optional[str] = None) -> Webhook:
        "POST /api/v1/webhooks/{id}/pause: Pause deliveries to an endpoint"
        return self._call("POST", "/api/v1/webhooks/{id}/pause", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    def webhooks_redeliver(self, id: str, delivery_id: str, *, idempotency_key: Optional[str] = None) -> WebhookDelivery:
        "POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver: Deliver an event again"
        return self._call("POST", "/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver", path_params={"id": id, "deliveryId": delivery_id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    def webhooks_resume(self, id: str, *, idempotency_key: Optional[str] = None) -> Webhook:
        "POST /api/v1/webhooks/{id}/resume: Resume a paused endpoint, or re-enable a disabled one"
        return self._call("POST", "/api/v1/webhooks/{id}/resume", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    def webhooks_rotate_secret(self, id: str, *, body: Optional[Dict[str, Any]] = None, idempotency_key: Optional[str] = None) -> WebhookWithSecret:
        "POST /api/v1/webhooks/{id}/rotate-secret: Rotate an endpoint’s signing secret"
        return self._call("POST", "/api/v1/webhooks/{id}/rotate-secret", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, json=body, returns="json")  # type: ignore[no-any-return]

    def webhooks_test(self, id: str, *, idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        "POST /api/v1/webhooks/{id}/test: Send a `webhook.test` event to an endpoint"
        return self._call("POST", "/api/v1/webhooks/{id}/test", path_params={"id": id}, query={}, headers={"Idempotency-Key": idempotency_key}, returns="json")  # type: ignore[no-any-return]

    def webhooks_update(self, id: str, body: Dict[str, Any]) -> Webhook:
        "PATCH /api/v1/webhooks/{id}: Change a webhook endpoint’s URL, events or description"
        return self._call("PATCH", "/api/v1/webhooks/{id}", path_params={"id": id}, query={}, headers={}, json=body, returns="json")  # type: ignore[no-any-return]
