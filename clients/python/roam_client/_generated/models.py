# Generated from clients/openapi.json by clients/python/scripts/generate.mjs: do not edit.
# `pnpm clients:generate` rewrites it; `pnpm check` fails when it is stale.
"""The roam API's schemas, as TypedDicts (what the API sends and accepts is plain JSON)."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, NotRequired, Optional, Required, TypedDict, Union


class ActionPage(TypedDict, total=False):
    items: Required[List[Dict[str, Any]]]
    next_cursor: Required[Optional[str]]


class ActionRequest(TypedDict, total=False):
    dry_run: NotRequired[bool]
    id: NotRequired[str]
    jobset_name: NotRequired[str]
    namespace: NotRequired[str]
    node_name: NotRequired[str]
    node_pool: NotRequired[str]
    preflight_checks: NotRequired[Dict[str, Any]]
    reason: Required[str]
    requestor: Required[str]
    type: Required[Literal["cordon_nodepool", "cordon_nodepool_and_restart_jobset", "cordon_and_repair_nodepool", "repair_nodepool", "uncordon_nodepool"]]


class ActionResponse(TypedDict, total=False):
    error: NotRequired[str]
    id: Required[str]


class ActionView(TypedDict, total=False):
    created_at: Required[str]
    dry_run: Required[bool]
    error: Required[Optional[str]]
    finished_at: Required[Optional[str]]
    id: Required[str]
    jobset_name: Required[Optional[str]]
    namespace: Required[Optional[str]]
    node_name: Required[Optional[str]]
    node_pool: Required[Optional[str]]
    outcome: Required[Any]
    # What the action does (or, for a dry run, would do).
    plan: Required[Any]
    reason: Required[str]
    request: Required[Any]
    requestor: Required[str]
    started_at: Required[Optional[str]]
    state: Required[Literal["pending", "running", "succeeded", "failed"]]
    steps: Required[List[Dict[str, Any]]]
    type: Required[Literal["cordon_nodepool", "cordon_nodepool_and_restart_jobset", "cordon_and_repair_nodepool", "repair_nodepool", "uncordon_nodepool"]]


class AdminActivity(TypedDict, total=False):
    db_jobs: Required[Dict[str, int]]
    k8s_jobs: Required[Dict[str, Any]]
    nodes: Required[int]
    # Pods in every namespace by phase.
    pods: Required[Dict[str, int]]
    timestamp: Required[str]


class AdminCluster(TypedDict, total=False):
    nodes: Required[List[Dict[str, Any]]]
    total_nodes: Required[int]


class AdminJobs(TypedDict, total=False):
    jobs: Required[List[Dict[str, Any]]]
    # Jobs matching the filter (the list holds at most `limit`).
    total: Required[int]


class ApiKey(TypedDict, total=False):
    created_at: Required[str]
    id: Required[str]
    last_used_at: Required[Optional[str]]
    name: Required[str]
    prefix: Required[str]
    revoked_at: Required[Optional[str]]


class ArrayRequest(TypedDict, total=False):
    # One value per element (exactly `size`), given to element i as `ROAM_ARRAY_ITEM`: a route file name, a parameter set as a CSV row or JSON text.
    items: NotRequired[List[str]]
    # Most elements admitted or running at once; unset = only the tenant’s limits.
    parallelism: NotRequired[int]
    size: Required[int]


class DeadLetter(TypedDict, total=False):
    # The durable consumer that gave up on it.
    consumer: Required[str]
    deliveries: Required[int]
    failed_at: Required[str]
    reason: Required[str]
    # Position in the dead-letter stream (the paging cursor).
    seq: Required[int]
    # Where the message was published.
    subject: Required[str]


class DeletedResults(TypedDict, total=False):
    deleted: Required[int]
    job_id: Required[str]


class Dependency(TypedDict, total=False):
    # A job or array id.
    job: Required[str]
    on: Required[Literal["succeeded", "finished", "failed", "all_succeeded", "any_failed"]]
    # Between two arrays of the same size: element i waits for element i of `job`, by `on` (succeeded, finished or failed).
    type: NotRequired[Literal["N_TO_N"]]


class Event(TypedDict, total=False):
    event: Required["EventEnvelope"]
    # The event’s id in the log; pass the last one seen as `after` to resume. Events come in commit order, which may differ from the order of these numbers.
    position: Required[int]
    # Short event type, e.g. `job.succeeded`.
    type: Required[str]


class EventEnvelope(TypedDict, total=False):
    "The event as it was published: a CloudEvents-style envelope whose `data` is the payload of its `type` (JSON Schemas per type in docs/events)."
    data: Required[Any]
    id: Required[str]
    seq: NotRequired[int]
    source: Required[str]
    subject: NotRequired[str]
    tenantId: NotRequired[str]
    time: Required[str]
    traceparent: NotRequired[str]
    type: Required[str]


class EventPage(TypedDict, total=False):
    has_more: Required[bool]
    items: Required[List["Event"]]
    # Where to continue from, also when the page is empty: poll again with it.
    next_cursor: Required[str]


class EventStreamEvent(TypedDict, total=False):
    data: Required["EventEnvelope"]
    # The short event type, e.g. `job.succeeded`.
    event: Required[str]
    # The event’s position (`position` in the paged feed); reconnect with it as `Last-Event-ID` to resume.
    id: Required[str]


class IssuedApiKey(TypedDict, total=False):
    # Shown once; stored only as a hash.
    api_key: Required[str]
    created_at: Required[str]
    id: Required[str]
    name: Required[str]
    prefix: Required[str]


class Job(TypedDict, total=False):
    # For an element of a job array: the array and its index (`ROAM_ARRAY_INDEX`).
    array: Required[Optional[Dict[str, Any]]]
    attempt: Required[int]
    completed_at: Required[Optional[str]]
    created_at: Required[str]
    exit_code: Required[Optional[int]]
    # The job group (`spec.group`), or null.
    group: Required[Optional[str]]
    id: Required[str]
    message: Required[Optional[str]]
    name: Required[str]
    phase: Required[str]
    # Where it runs: `{ namespace, job, pod, node }`, or the offload target.
    placement: Required[Optional[Dict[str, Any]]]
    priority: Required[int]
    queue: Required[str]
    reason: Required[Optional[str]]
    # Times a JobSet's own failure policy (`failure_policy.max_restarts`) restarted the job, over all its attempts; each is a `job.restarted` event. Not roam's retries (`attempt`). 0 for other jobs.
    restarts: Required[int]
    spec: Required["JobSpec"]
    started_at: Required[Optional[str]]
    status: Required[Literal["pending", "running", "succeeded", "failed", "cancelled"]]
    tenant_id: Required[str]


class JobArray(TypedDict, total=False):
    # A cancel was accepted (202) and is under way: the counts show how far it has got.
    cancelling: Required[bool]
    # Elements per phase.
    counts: Required[Dict[str, Any]]
    created_at: Required[str]
    # All elements have finished.
    done: Required[bool]
    # Elements succeeded, failed or cancelled.
    finished: Required[int]
    # When the last of them finished (`array.finished`); null while not done.
    finished_at: Required[Optional[str]]
    group: Required[Optional[str]]
    id: Required[str]
    name: Required[str]
    parallelism: Required[Optional[int]]
    # Elements submitted, queued or admitted.
    pending: Required[int]
    # finished / size, from 0 to 1.
    progress: Required[float]
    running: Required[int]
    size: Required[int]


class JobArrayCancel(TypedDict, total=False):
    array: Required["JobArray"]
    # Elements this request cancelled (0 with a 202: the background cancel does them).
    cancelled: Required[int]


class JobArrayElementPage(TypedDict, total=False):
    items: Required[List["Job"]]
    # Pass as `cursor` for the next page (an index); null at the end.
    next_cursor: Required[Optional[int]]


class JobArrayPage(TypedDict, total=False):
    items: Required[List["JobArray"]]
    # Pass as `cursor` for the next page (older arrays); null at the end.
    next_cursor: Required[Optional[str]]


class JobArrayRetry(TypedDict, total=False):
    array: Required["JobArray"]
    # Failed elements this request submitted again.
    retried: Required[int]


class JobBatchResult(TypedDict, total=False):
    count: Required[int]
    items: Required[List[Dict[str, Any]]]


class JobEvent(TypedDict, total=False):
    at: Required[str]
    # Detail of the change (exit code, placement…), or null.
    data: Required[Any]
    message: Required[Optional[str]]
    phase: Required[str]
    reason: Required[Optional[str]]
    # Per-job sequence number, from 1.
    seq: Required[int]
    status: Required[Literal["pending", "running", "succeeded", "failed", "cancelled"]]


class JobExplanation(TypedDict, total=False):
    # `kueue` when Kueue decides admission (ROAM_ADMISSION=kueue).
    admission: NotRequired[Literal["roam", "kueue"]]
    # True when the next scheduler cycle admits it.
    admitted: NotRequired[bool]
    blocker: NotRequired["AdmissionBlocker"]
    # When the admission decision this answer comes from was taken; one decision answers every caller for EXPLAIN_CACHE_MS.
    decided_at: NotRequired[str]
    job_id: Required[str]
    # What the job's Kueue Workload says, when Kueue decides admission.
    kueue: NotRequired[Dict[str, Any]]
    # When the job was last preempted, and by which job and why (docs/scheduling.md#borrowing); it was requeued without using a retry.
    last_preemption: NotRequired[Dict[str, Any]]
    # Where it would be placed, when admitted.
    node: NotRequired[str]
    # Whether the job is waiting for admission; the fields below are about that wait.
    pending: Required[bool]
    phase: Required[str]
    # 1-based place in the tenant’s queue and in the global admission order.
    position: NotRequired[Dict[str, Any]]
    # Why it waits. CapacityUnavailable: every node that could take it is cordoned or NotReady (a failover action, say); an offload-allowed job is offered to RunPod at once.
    reason: NotRequired[Literal["ConcurrencyLimit", "WaitingForQuota", "InsufficientCapacity", "Unschedulable", "WaitingForOlderJob", "Offload", "UnknownTenant", "CapacityUnavailable"]]
    # For a JobSet its failure policy restarted: how many times over all attempts, and what that means; a restart recreates every pod within the same attempt and uses none of roam's retries.
    restarts: NotRequired[Dict[str, Any]]
    status: Required[str]
    # One sentence.
    summary: Required[str]
    # Each of these, on its own, would let the job move.
    unblock: NotRequired[List[str]]


class JobGroup(TypedDict, total=False):
    # Jobs per phase.
    counts: Required[Dict[str, Any]]
    created_at: Required[str]
    # All jobs have finished.
    done: Required[bool]
    # Jobs succeeded, failed or cancelled.
    finished: Required[int]
    # When the last of them finished (`group.finished`); null while not done.
    finished_at: Required[Optional[str]]
    name: Required[str]
    # Jobs submitted, queued or admitted.
    pending: Required[int]
    running: Required[int]
    # Jobs ever submitted to the group.
    total: Required[int]


class JobGroupCancel(TypedDict, total=False):
    # Jobs this request cancelled.
    cancelled: Required[int]
    group: Required["JobGroup"]


class JobGroupPage(TypedDict, total=False):
    items: Required[List["JobGroup"]]
    # Pass as `cursor` for the next page.
    next_cursor: Required[Optional[str]]


class JobPage(TypedDict, total=False):
    items: Required[List["Job"]]
    # Pass as `cursor` for the next page; null at the end.
    next_cursor: Required[Optional[str]]


class JobSpec(TypedDict, total=False):
    annotations: NotRequired[Dict[str, str]]
    args: NotRequired[List[str]]
    capacity: NotRequired[Literal["spot", "on-demand", "any", "prefer-spot"]]
    command: Required[List[str]]
    completions: NotRequired[int]
    # Jobs or arrays this job waits for; it is not admitted until every one is met. When one can no longer be met the job is cancelled (reason DependencyFailed), unless `on_dependency_failure` is `keep`.
    depends_on: NotRequired[List["Dependency"]]
    env: NotRequired[Dict[str, str]]
    failure_policy: NotRequired[Dict[str, Any]]
    group: NotRequired[str]
    image: Required[str]
    # Put the dependencies' result files under `$ROAM_INPUTS_DIR/deps/` before the command starts. Needs object storage and `offload: never`: otherwise the submit is a 422 (`dependency-inputs-unavailable`).
    inputs_from_dependencies: NotRequired[bool]
    labels: NotRequired[Dict[str, str]]
    max_duration_seconds: NotRequired[int]
    name: NotRequired[str]
    offload: Required[Literal["never", "allowed", "required"]]
    # `cancel` (the default): cancelled with reason DependencyFailed. `keep`: stays queued with reason DependencyNeverSatisfied until you cancel it.
    on_dependency_failure: NotRequired[Literal["cancel", "keep"]]
    parallelism: NotRequired[int]
    priority: Required[int]
    priority_class: NotRequired[str]
    queue: Required[str]
    replicated_jobs: NotRequired[List[Dict[str, Any]]]
    resources: Required[Dict[str, Any]]
    retry_policy: NotRequired[Dict[str, Any]]
    success_policy: NotRequired[Dict[str, Any]]
    ttl_seconds_after_finished: Required[int]
    wait_for_pods_ready_seconds: NotRequired[int]


class JobSpecInput(TypedDict, total=False):
    annotations: NotRequired[Dict[str, str]]
    args: NotRequired[List[str]]
    capacity: NotRequired[Literal["spot", "on-demand", "any", "prefer-spot"]]
    command: Required[List[str]]
    completions: NotRequired[int]
    # Jobs or arrays this job waits for; it is not admitted until every one is met. When one can no longer be met the job is cancelled (reason DependencyFailed), unless `on_dependency_failure` is `keep`.
    depends_on: NotRequired[List["Dependency"]]
    env: NotRequired[Dict[str, str]]
    failure_policy: NotRequired[Dict[str, Any]]
    group: NotRequired[str]
    image: Required[str]
    # Put the dependencies' result files under `$ROAM_INPUTS_DIR/deps/` before the command starts. Needs object storage and `offload: never`: otherwise the submit is a 422 (`dependency-inputs-unavailable`).
    inputs_from_dependencies: NotRequired[bool]
    labels: NotRequired[Dict[str, str]]
    max_duration_seconds: NotRequired[int]
    name: NotRequired[str]
    offload: NotRequired[Literal["never", "allowed", "required"]]
    # `cancel` (the default): cancelled with reason DependencyFailed. `keep`: stays queued with reason DependencyNeverSatisfied until you cancel it.
    on_dependency_failure: NotRequired[Literal["cancel", "keep"]]
    parallelism: NotRequired[int]
    priority: NotRequired[int]
    priority_class: NotRequired[str]
    queue: NotRequired[str]
    replicated_jobs: NotRequired[List[Dict[str, Any]]]
    resources: NotRequired[Dict[str, Any]]
    retry_policy: NotRequired[Dict[str, Any]]
    success_policy: NotRequired[Dict[str, Any]]
    ttl_seconds_after_finished: NotRequired[int]
    wait_for_pods_ready_seconds: NotRequired[int]


class JobStatus(TypedDict, total=False):
    attempt: Required[int]
    completed_at: Required[Optional[str]]
    created_at: Required[str]
    exit_code: Required[Optional[int]]
    id: Required[str]
    message: Required[Optional[str]]
    phase: Required[str]
    # Where it runs: `{ namespace, job, pod, node }`, or the offload target.
    placement: Required[Optional[Dict[str, Any]]]
    reason: Required[Optional[str]]
    started_at: Required[Optional[str]]
    status: Required[Literal["pending", "running", "succeeded", "failed", "cancelled"]]


class JobWebhookDeliveries(TypedDict, total=False):
    items: Required[List["WebhookDelivery"]]


class LogStreamEnd(TypedDict, total=False):
    # The attempt whose log this was.
    attempt: Required[int]
    job_id: Required[str]
    reason: NotRequired[str]
    # The job’s status when its pod ended.
    status: Required[str]


class LogStreamEndMessage(TypedDict, total=False):
    data: Required["LogStreamEnd"]
    event: Required[Literal["end"]]


class LogStreamLine(TypedDict, total=False):
    # One log line, as is (not JSON).
    data: Required[str]
    # No `event:` line: the SSE default type.
    event: Required[Literal["message"]]


class OffloadOverview(TypedDict, total=False):
    # The 100 most recent offloads, newest first; live ones (creating, running) first.
    pods: Required[List[Dict[str, Any]]]
    # Per GPU type, the hourly prices pods were created at (the last 30 days).
    prices: Required[List[Dict[str, Any]]]
    # Per tenant with spend, a budget above zero or a pod: most spend first (at most 100).
    spend: Required[List[Dict[str, Any]]]


class Parked(TypedDict, total=False):
    dead_letters: Required[Dict[str, Any]]
    outbox: Required[Dict[str, Any]]


class ParkedOutboxMessage(TypedDict, total=False):
    attempts: Required[int]
    created_at: Required[str]
    # The envelope id (and Nats-Msg-Id) of the message.
    id: Required[str]
    parked_at: Required[str]
    # The last publish error.
    reason: Required[Optional[str]]
    subject: Required[str]


class Pipeline(TypedDict, total=False):
    # Jobs of every step (array elements included) per phase.
    counts: Required[Dict[str, Any]]
    created_at: Required[str]
    done: Required[bool]
    # When its last step finished (`pipeline.finished`).
    finished_at: Required[Optional[str]]
    id: Required[str]
    name: Required[str]
    # Finished steps by outcome.
    outcome: Required[Dict[str, Any]]
    steps: Required[List["PipelineStep"]]


class PipelinePage(TypedDict, total=False):
    items: Required[List["PipelineSummary"]]
    # Pass as `cursor` for the next page (older pipelines); null at the end.
    next_cursor: Required[Optional[str]]


class PipelineStep(TypedDict, total=False):
    # Jobs of the step per phase (1 job, or the array’s elements).
    counts: Required[Dict[str, Any]]
    depends_on: Required[List[Dict[str, Any]]]
    # The job’s or the array’s id.
    id: Required[str]
    kind: Required[Literal["job", "array"]]
    name: Required[str]
    # A job step’s phase (`Queued`…); null for an array.
    phase: Required[Optional[str]]
    reason: Required[Optional[str]]
    # A job’s status; an array’s: succeeded when every element did.
    status: Required[Literal["pending", "running", "succeeded", "failed", "cancelled"]]


class PipelineSubmit(TypedDict, total=False):
    name: Required[str]
    steps: Required[List[Dict[str, Any]]]


class PipelineSummary(TypedDict, total=False):
    created_at: Required[str]
    done: Required[bool]
    finished_at: Required[Optional[str]]
    id: Required[str]
    name: Required[str]
    # Finished steps by outcome.
    outcome: Required[Dict[str, Any]]
    # `running` until its last step finished; then `failed` if a step failed, else `cancelled` if one was cancelled, else `succeeded`.
    state: Required[Literal["running", "succeeded", "failed", "cancelled"]]
    steps_total: Required[int]


class PriorityClasses(TypedDict, total=False):
    items: Required[List[Dict[str, Any]]]


class Problem(TypedDict, total=False):
    detail: NotRequired[str]
    # Validation problems: every bad field.
    errors: NotRequired[List[Dict[str, Any]]]
    instance: NotRequired[str]
    status: Required[int]
    title: Required[str]
    # Stable identifier of the kind of problem; switch on this.
    type: Required[str]


QueueSeries = TypedDict(
    "QueueSeries",
    {
      "admitted": Required[List[int]],
      "bucket_seconds": Required[int],
      "from": Required[str],
      "oldest_waiting": Required[List[Dict[str, Any]]],
      "pending": Required[List[Dict[str, Any]]],
      "times": Required[List[str]],
      "until": Required[str],
    },
    total=False,
)


class Readiness(TypedDict, total=False):
    checks: Required[Dict[str, Any]]
    # Each durable consumer loop of this app; a dead one is restarted with backoff.
    consumers: Required[List[Dict[str, Any]]]
    # This app's timer loops: reported, not gating readiness (they retry by themselves).
    loops: Required[List[Dict[str, Any]]]
    status: Required[Literal["ready", "unready"]]


class RegisteredTenant(TypedDict, total=False):
    # Shown once; stored only as a hash.
    api_key: Required[str]
    api_key_id: Required[str]
    # Borrowing beyond the guarantee per resource; a resource left out is not capped.
    borrowing_limit: Required[Optional[Dict[str, Any]]]
    # Cohort sharing idle guaranteed quota; null: the limits are a hard cap.
    cohort: Required[Optional[str]]
    created_at: Required[str]
    max_concurrent_jobs: Required[int]
    max_cpu: Required[float]
    max_gpu: Required[int]
    # GPUs per accelerator type, when the quota names types; `max_gpu` is their sum.
    max_gpu_by_type: NotRequired[Dict[str, int]]
    max_memory_gi: Required[float]
    # TPU chips the tenant may hold, all TPU types together; null: no TPU quota.
    max_tpu: Required[Optional[int]]
    # TPU chips per TPU type, when the quota names types; `max_tpu` is their sum.
    max_tpu_by_type: NotRequired[Dict[str, int]]
    message: Required[str]
    namespace: Required[str]
    offload_budget_usd: Required[Optional[float]]
    offload_spend_usd: Required[float]
    rate_limit_per_second: Required[Optional[float]]
    results_retention_days: Required[Optional[int]]
    status: Required[Literal["provisioning", "ready", "error", "deleting"]]
    status_reason: Required[Optional[str]]
    tenant_id: Required[str]
    updated_at: Required[str]
    weight: Required[int]


class Requeued(TypedDict, total=False):
    id: Required[str]
    status: Required[Literal["requeued"]]


class ResultFile(TypedDict, total=False):
    # sha256, hex.
    checksum: Required[str]
    checksum_algorithm: Required[Literal["sha256"]]
    content_type: Required[str]
    expires_at: Required[Optional[str]]
    # Path relative to the results directory.
    name: Required[str]
    size: Required[int]
    # Short-lived download URL (presigned), or the gateway route in PVC mode.
    url: Required[str]


class ResultList(TypedDict, total=False):
    # One page, in path order.
    files: Required[List["ResultFile"]]
    # True when more files follow this page.
    has_more: Required[bool]
    job_id: Required[str]
    # Pass as `cursor` for the next page; null on the last page.
    next_cursor: Required[Optional[str]]
    result_location: Required[Optional[str]]
    storage_type: Required[Literal["s3", "pvc"]]


class SchedulingResources(TypedDict, total=False):
    cpuMillis: Required[float]
    gpu: Required[float]
    memoryBytes: Required[float]


class SeedJob(TypedDict, total=False):
    attempt: Required[int]
    exit_code: Required[Optional[int]]
    finished_at: Required[Optional[str]]
    job_id: Required[str]
    k8s_job_name: Required[Optional[str]]
    k8s_namespace: Required[str]
    message: Required[Optional[str]]
    name: Required[str]
    phase: Required[str]
    pod_name: Required[Optional[str]]
    reason: Required[Optional[str]]
    started_at: Required[Optional[str]]
    status: Required[Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]]
    submitted_at: Required[str]


class SeedJobAccepted(TypedDict, total=False):
    job_id: Required[str]
    # A note, e.g. about an upload that was not kept.
    message: NotRequired[str]
    status: Required[Literal["PENDING"]]


class SeedJobForm(TypedDict, total=False):
    # CPU cores; the `sumo` template’s when absent.
    cpu_request: NotRequired[float]
    # Memory in GiB; the `sumo` template’s when absent.
    memory_gi: NotRequired[float]
    # Passed to the job as `SCENARIO_ID`.
    scenario_id: Required[str]


class SeedLogs(TypedDict, total=False):
    attempt: Required[int]
    job_id: Required[str]
    logs: Required[str]
    pod_name: Required[Optional[str]]
    # Why `logs` is empty, when it is for lack of a log.
    reason: Required[Optional[Literal["not-started", "container-waiting", "pod-gone", "pod-not-found"]]]
    source: Required[Literal["kubernetes", "archive", "none"]]


class StepDependency(TypedDict, total=False):
    on: Required[Literal["succeeded", "finished", "failed", "all_succeeded", "any_failed"]]
    step: Required[str]
    type: NotRequired[Literal["N_TO_N"]]


class StreamClosed(TypedDict, total=False):
    # Why: the key was revoked, or its tenant deleted.
    detail: Required[str]
    reason: Required[Literal["unauthorized"]]


class StreamClosedMessage(TypedDict, total=False):
    data: Required["StreamClosed"]
    event: Required[Literal["closed"]]


class Template(TypedDict, total=False):
    # Built-ins are shared by every tenant and read-only.
    builtin: Required[bool]
    created_at: Required[str]
    name: Required[str]
    spec: Required[Dict[str, Any]]
    updated_at: Required[str]


class TemplateSubmit(TypedDict, total=False):
    "Any other JobSpec field is an override, merge-patched (RFC 7396) onto the template: objects merge key by key, arrays and scalars replace, `null` removes."
    # Name of one of your templates or a built-in.
    template: Required[str]


class Tenant(TypedDict, total=False):
    # Borrowing beyond the guarantee per resource; a resource left out is not capped.
    borrowing_limit: Required[Optional[Dict[str, Any]]]
    # Cohort sharing idle guaranteed quota; null: the limits are a hard cap.
    cohort: Required[Optional[str]]
    created_at: Required[str]
    max_concurrent_jobs: Required[int]
    max_cpu: Required[float]
    max_gpu: Required[int]
    # GPUs per accelerator type, when the quota names types; `max_gpu` is their sum.
    max_gpu_by_type: NotRequired[Dict[str, int]]
    max_memory_gi: Required[float]
    # TPU chips the tenant may hold, all TPU types together; null: no TPU quota.
    max_tpu: Required[Optional[int]]
    # TPU chips per TPU type, when the quota names types; `max_tpu` is their sum.
    max_tpu_by_type: NotRequired[Dict[str, int]]
    namespace: Required[str]
    offload_budget_usd: Required[Optional[float]]
    offload_spend_usd: Required[float]
    rate_limit_per_second: Required[Optional[float]]
    results_retention_days: Required[Optional[int]]
    status: Required[Literal["provisioning", "ready", "error", "deleting"]]
    status_reason: Required[Optional[str]]
    tenant_id: Required[str]
    updated_at: Required[str]
    weight: Required[int]


class TenantDashboard(TypedDict, total=False):
    # `status.used` of the namespace ResourceQuota `roam-quota` ({} until it exists).
    current_usage: Required[Dict[str, str]]
    namespace: Required[str]
    plan_limits: Required[Dict[str, Any]]
    quota_hard: Required[Dict[str, str]]
    # The 10 most recent jobs, newest first.
    recent_jobs: Required[List["SeedJob"]]
    running_pods: Required[int]
    stats: Required[Dict[str, Any]]
    tenant_id: Required[str]


class TenantUsage(TypedDict, total=False):
    "What the tenant's jobs hold of its quota now."
    # Cores held by admitted, unfinished jobs (against `max_cpu`).
    cpu: Required[float]
    # GPUs held (against `max_gpu`).
    gpu: Required[int]
    # GiB held (against `max_memory_gi`).
    memory_gi: Required[float]
    # Jobs waiting for admission.
    pending_jobs: Required[int]
    # Jobs admitted and not finished (against `max_concurrent_jobs`).
    running_jobs: Required[int]
    # TPU chips held, of every type (against `max_tpu`); a multi-host slice counts all its hosts.
    tpu: Required[int]


class TenantWithUsage(TypedDict, total=False):
    # Borrowing beyond the guarantee per resource; a resource left out is not capped.
    borrowing_limit: Required[Optional[Dict[str, Any]]]
    # Cohort sharing idle guaranteed quota; null: the limits are a hard cap.
    cohort: Required[Optional[str]]
    created_at: Required[str]
    max_concurrent_jobs: Required[int]
    max_cpu: Required[float]
    max_gpu: Required[int]
    # GPUs per accelerator type, when the quota names types; `max_gpu` is their sum.
    max_gpu_by_type: NotRequired[Dict[str, int]]
    max_memory_gi: Required[float]
    # TPU chips the tenant may hold, all TPU types together; null: no TPU quota.
    max_tpu: Required[Optional[int]]
    # TPU chips per TPU type, when the quota names types; `max_tpu` is their sum.
    max_tpu_by_type: NotRequired[Dict[str, int]]
    namespace: Required[str]
    offload_budget_usd: Required[Optional[float]]
    offload_spend_usd: Required[float]
    rate_limit_per_second: Required[Optional[float]]
    results_retention_days: Required[Optional[int]]
    status: Required[Literal["provisioning", "ready", "error", "deleting"]]
    status_reason: Required[Optional[str]]
    tenant_id: Required[str]
    updated_at: Required[str]
    usage: Required["TenantUsage"]
    weight: Required[int]


UsageSeries = TypedDict(
    "UsageSeries",
    {
      "bucket_seconds": Required[int],
      "fair_share": Required[Dict[str, Any]],
      "from": Required[str],
      "limits": Required[Dict[str, Any]],
      "points": Required[List[Dict[str, Any]]],
      "until": Required[str],
    },
    total=False,
)


class Webhook(TypedDict, total=False):
    created_at: Required[str]
    description: Required[str]
    disabled_reason: Required[Optional[str]]
    # Event filters; empty = every event.
    events: Required[List[str]]
    # First failure of the current failing streak.
    failing_since: Required[Optional[str]]
    id: Required[str]
    # After a rotation, until when the previous secret still signs.
    previous_secret_expires_at: Required[Optional[str]]
    # `disabled` when deliveries kept failing (see `disabled_reason`); `resume` re-enables it.
    status: Required[Literal["active", "paused", "disabled"]]
    updated_at: Required[str]
    url: Required[str]


class WebhookDelivery(TypedDict, total=False):
    attempt_log: Required[List[Dict[str, Any]]]
    attempts: Required[int]
    created_at: Required[str]
    # The webhook endpoint it goes to.
    endpoint_id: Required[str]
    event_id: Required[str]
    event_type: Required[str]
    # The `webhook-id` header, the same on every attempt.
    id: Required[str]
    last_attempt_at: Required[Optional[str]]
    next_attempt_at: Required[Optional[str]]
    # The event sent, as the body of every attempt.
    payload: Required[Dict[str, Any]]
    status: Required[Literal["pending", "succeeded", "failed"]]


class WebhookWithSecret(TypedDict, total=False):
    created_at: Required[str]
    description: Required[str]
    disabled_reason: Required[Optional[str]]
    # Event filters; empty = every event.
    events: Required[List[str]]
    # First failure of the current failing streak.
    failing_since: Required[Optional[str]]
    id: Required[str]
    # After a rotation, until when the previous secret still signs.
    previous_secret_expires_at: Required[Optional[str]]
    # The signing secret (`whsec_…`, Standard Webhooks). Shown only here; keep it.
    secret: Required[str]
    # `disabled` when deliveries kept failing (see `disabled_reason`); `resume` re-enables it.
    status: Required[Literal["active", "paused", "disabled"]]
    updated_at: Required[str]
    url: Required[str]


# The constraint that keeps the job out, with its numbers.
AdmissionBlocker = Dict[str, Any]


# Server-Sent Events: each message is one of these shapes written as SSE fields: `id:` and `event:` lines (when present) and a `data:` line carrying `data` (as JSON, except a log line, which is sent as is), then a blank line. Lines starting with `:` are comments (heartbeats) to ignore. Here: one message per event; `: heartbeat` every 15 s; a last `event: closed` when the API key the stream was opened with is revoked or its tenant deleted.
EventStreamMessage = Union[EventStreamEvent, StreamClosedMessage]


# Server-Sent Events: each message is one of these shapes written as SSE fields: `id:` and `event:` lines (when present) and a `data:` line carrying `data` (as JSON, except a log line, which is sent as is), then a blank line. Lines starting with `:` are comments (heartbeats) to ignore. Here: one message per log line, then `event: end` when the pod ends, or `event: closed` when the API key it was opened with is revoked.
LogStreamMessage = Union[LogStreamLine, LogStreamEndMessage, StreamClosedMessage]
