/** Object keys, exactly as DESIGN.md fixes them: `tenants/<tenant>/jobs/<job>/{inputs,results,logs}/…`. */
export const jobPrefix = (tenantId: string, jobId: string): string =>
  `tenants/${tenantId}/jobs/${jobId}/`;

export const inputsPrefix = (tenantId: string, jobId: string): string =>
  `${jobPrefix(tenantId, jobId)}inputs/`;

/** The uploaded archive keeps its kind in its name so the fetcher knows how to unpack it. */
export const inputsKey = (tenantId: string, jobId: string, format: 'zip' | 'tar.gz'): string =>
  `${inputsPrefix(tenantId, jobId)}inputs.${format}`;

export const resultsPrefix = (tenantId: string, jobId: string): string =>
  `${jobPrefix(tenantId, jobId)}results/`;

export const resultKey = (tenantId: string, jobId: string, path: string): string =>
  `${resultsPrefix(tenantId, jobId)}${path}`;

export const logKey = (tenantId: string, jobId: string, attempt: number): string =>
  `${jobPrefix(tenantId, jobId)}logs/attempt-${attempt}.log`;
