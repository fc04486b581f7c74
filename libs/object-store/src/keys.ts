/** Object keys, fixed for good (stored rows and objects use them): `tenants/<tenant>/jobs/<job>/{inputs,results,logs}/…`. */
export const jobPrefix = (tenantId: string, jobId: string): string =>
  `${tenantObjectsPrefix(tenantId)}jobs/${jobId}/`;

/** Everything a tenant owns in object storage; removed with the tenant. */
export const tenantObjectsPrefix = (tenantId: string): string => `tenants/${tenantId}/`;

export const inputsPrefix = (tenantId: string, jobId: string): string =>
  `${jobPrefix(tenantId, jobId)}inputs/`;

/** The uploaded archive keeps its kind in its name so the fetcher knows how to unpack it. */
export const inputsKey = (tenantId: string, jobId: string, format: 'zip' | 'tar.gz'): string =>
  `${inputsPrefix(tenantId, jobId)}inputs.${format}`;

/**
 * The list of the dependencies' result files (presigned GET and path, one a line) an attempt's
 * `roam-deps` fetcher reads; written by the scheduler when it creates the attempt's Job.
 */
export const dependencyInputsKey = (tenantId: string, jobId: string, attempt: number): string =>
  `${inputsPrefix(tenantId, jobId)}deps-attempt-${attempt}.txt`;

export const resultsPrefix = (tenantId: string, jobId: string): string =>
  `${jobPrefix(tenantId, jobId)}results/`;

export const resultKey = (tenantId: string, jobId: string, path: string): string =>
  `${resultsPrefix(tenantId, jobId)}${path}`;

export const logKey = (tenantId: string, jobId: string, attempt: number): string =>
  `${jobPrefix(tenantId, jobId)}logs/attempt-${attempt}.log`;

/**
 * Where a pod's results uploader PUTs the archive of its results directory, one per attempt,
 * inside the results prefix so a job's keys stay under the three folders above. The storage
 * worker unpacks it into `results/<path>` and removes it; no result file can be named `.roam/…`.
 */
export const RESULTS_UPLOAD_DIR = '.roam/';

export const resultsUploadKey = (tenantId: string, jobId: string, attempt: number): string =>
  `${resultsPrefix(tenantId, jobId)}${RESULTS_UPLOAD_DIR}attempt-${attempt}.tar.gz`;

/**
 * A multi-pod attempt's uploads: one archive per pod, under the pod's result prefix
 * (`resultSlotsOf`), and the manifest of their presigned PUTs the pods' uploaders read.
 */
export const replicaResultsUploadKey = (
  tenantId: string,
  jobId: string,
  attempt: number,
  prefix: string,
): string =>
  `${resultsPrefix(tenantId, jobId)}${RESULTS_UPLOAD_DIR}attempt-${attempt}/${prefix}results.tar.gz`;

export const resultsUploadManifestKey = (
  tenantId: string,
  jobId: string,
  attempt: number,
): string => `${resultsPrefix(tenantId, jobId)}${RESULTS_UPLOAD_DIR}attempt-${attempt}/uploads.txt`;

/**
 * One replica's archived log of a multi-pod attempt (`3`, `worker-1`), beside the attempt's
 * whole log, whose lines say which replica wrote them.
 */
export const replicaLogKey = (
  tenantId: string,
  jobId: string,
  attempt: number,
  replica: string,
): string => `${jobPrefix(tenantId, jobId)}logs/attempt-${attempt}/${replica}.log`;
