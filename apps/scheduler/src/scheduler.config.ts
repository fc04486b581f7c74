import {
  admissionModeEnv,
  admissionWindowEnv,
  envBoolean,
  isAddressOrCidr,
  workerEnv,
} from '@roam/config';
import { z } from 'zod';

import { POD_SECURITY_LEVELS } from './tenants/tenant-isolation.js';

const cidrList = z
  .string()
  .refine(
    (value) => value.split(',').every((entry) => isAddressOrCidr(entry.trim())),
    'must be comma-separated IP addresses or CIDRs (10.0.0.0/8)',
  );

const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const BYTES_QUANTITY = /^[1-9][0-9]*(Ki|Mi|Gi|Ti)?$/;

export const schedulerEnv = workerEnv('scheduler').extend({
  ADMISSION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(50)
    .default(1000)
    .describe('Admission cycle period.'),
  ...admissionWindowEnv,
  ...admissionModeEnv,
  KUEUE_CLUSTER_QUEUE: z
    .string()
    .regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain')
    .optional()
    .describe(
      "ROAM_ADMISSION=kueue: an existing ClusterQueue every tenant's LocalQueue points at; unset = a ClusterQueue `roam-<tenant>` per tenant with its limits as nominal quota.",
    ),
  KUEUE_COHORT: z
    .string()
    .regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain')
    .default('roam')
    .describe('ROAM_ADMISSION=kueue: the cohort of the per-tenant ClusterQueues.'),
  KUEUE_FLAVOR: z
    .string()
    .regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain')
    .default('default-flavor')
    .describe(
      "ROAM_ADMISSION=kueue: the ResourceFlavor the per-tenant ClusterQueues' quotas are in.",
    ),
  KUEUE_ADMISSION_CHECK: z
    .string()
    .regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain')
    .default('roam-inputs')
    .describe(
      "ROAM_ADMISSION=kueue: the AdmissionCheck (controllerName roam.dev/inputs) roam answers by minting a job's presigned URLs when Kueue reserves its quota; the per-tenant ClusterQueues list it, an operator's KUEUE_CLUSTER_QUEUE must too.",
    ),
  ADMISSION_STARVATION_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(10 * 60_000)
    .describe('A job waiting this long at the head of its queue reserves capacity.'),
  PREEMPTION_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(30)
    .describe(
      "Seconds a preempted job's pods get between SIGTERM and SIGKILL before its requeued attempt may start.",
    ),
  PREEMPTION_MAX_PER_CYCLE: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(64)
    .describe('Most jobs one admission cycle preempts (0 turns preemption off).'),
  ADMISSION_CREATE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('Admitted jobs whose Kubernetes Job is unconfirmed this long are created again.'),
  KUBE_CREATE_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(16)
    .describe(
      'Kubernetes Job creates in flight at once (admission does not wait for them); KUBE_CLIENT_QPS bounds their rate.',
    ),
  INPUTS_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(3600)
    .describe('Lifetime of the presigned URL the roam-inputs init container fetches inputs with.'),
  DEPENDENCY_INPUTS_MAX_FILES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(10_000)
    .describe(
      'Most result files a job with inputs_from_dependencies receives; past it the attempt fails with the count in its roam-deps log.',
    ),
  DEPENDENCY_INPUTS_MAX_MB: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_048_576)
    .default(4096)
    .describe(
      'Most bytes (MB) of results a job with inputs_from_dependencies receives; keep it below JOB_WORK_SIZE_LIMIT.',
    ),
  JOB_WORK_SIZE_LIMIT: z
    .string()
    .regex(BYTES_QUANTITY, 'must be a Kubernetes byte quantity such as 10Gi')
    .default('10Gi')
    .describe("sizeLimit of the /roam emptyDir in every job's pod (inputs and results scratch)."),
  JOB_HELPER_EPHEMERAL_STORAGE: z
    .string()
    .regex(BYTES_QUANTITY, 'must be a Kubernetes byte quantity such as 1Gi')
    .default('1Gi')
    .describe(
      'ephemeral-storage request and limit of the roam-inputs and roam-results containers.',
    ),
  INPUTS_FETCHER_IMAGE: z
    .string()
    .min(1)
    .default('busybox:1.36')
    .describe('Image of the roam-inputs init container (needs sh, wget, unzip, tar).'),
  RESULTS_UPLOADER_IMAGE: z
    .string()
    .min(1)
    .default('curlimages/curl:8.11.1')
    .describe(
      "Image of the roam-results sidecar that uploads a job's results (needs sh, tar, curl).",
    ),
  RESULTS_PVC_SIZE: z
    .string()
    .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a Kubernetes quantity such as 10Gi')
    .default('10Gi')
    .describe("PVC mode: size of each tenant's roam-results volume."),
  RESULTS_PVC_STORAGE_CLASS: z
    .string()
    .min(1)
    .optional()
    .describe(
      'PVC mode: storage class of the tenant volumes (ReadWriteMany); unset = the default class.',
    ),
  TENANT_EPHEMERAL_STORAGE_DEFAULT_REQUEST: z
    .string()
    .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a Kubernetes quantity such as 10Gi')
    .default('256Mi')
    .describe("Node disk (ephemeral-storage) requested for a tenant's container that sets none."),
  TENANT_EPHEMERAL_STORAGE_DEFAULT_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a Kubernetes quantity such as 10Gi')
    .default('2Gi')
    .describe("Node disk (ephemeral-storage) limit of a tenant's container that sets none."),
  TENANT_EPHEMERAL_STORAGE_MAX: z
    .string()
    .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a Kubernetes quantity such as 10Gi')
    .default('10Gi')
    .describe("Largest node disk (ephemeral-storage) limit one of a tenant's containers may have."),
  TENANT_EPHEMERAL_STORAGE_PER_JOB: z
    .string()
    .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a Kubernetes quantity such as 10Gi')
    .default('20Gi')
    .describe(
      "A tenant namespace's ephemeral-storage quota (requests and limits) per concurrent job it may run.",
    ),
  DEFAULT_MAX_DURATION_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 3600)
    .describe('activeDeadlineSeconds of jobs that set no max_duration_seconds (SUMO-K8: 24 h).'),
  // Tenant namespace isolation (docs/security.md#tenant-pods).
  TENANT_NETWORK_POLICY: envBoolean
    .default(true)
    .describe(
      'Write the roam-tenant-isolation NetworkPolicy in every tenant namespace (needs a CNI that enforces NetworkPolicy).',
    ),
  TENANT_EGRESS_DENY_CIDRS: cidrList
    .default(
      '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,fc00::/7,fe80::/10',
    )
    .describe(
      "Addresses tenant pods may not reach: the cluster's pod and service CIDRs, roam, NATS, Postgres (169.254.169.254 is always added).",
    ),
  TENANT_EGRESS_ALLOW_CIDRS: cidrList
    .optional()
    .describe(
      'Exceptions inside TENANT_EGRESS_DENY_CIDRS tenant pods may reach, e.g. an in-cluster object store serving presigned URLs.',
    ),
  TENANT_POD_SECURITY_ENFORCE: z
    .enum(POD_SECURITY_LEVELS)
    .default('baseline')
    .describe('Pod Security level enforced in tenant namespaces.'),
  TENANT_POD_SECURITY_WARN: z
    .enum(POD_SECURITY_LEVELS)
    .default('restricted')
    .describe('Pod Security level tenant namespaces warn and audit against.'),
});

export type SchedulerConfig = z.infer<typeof schedulerEnv>;
