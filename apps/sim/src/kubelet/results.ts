// The roam results contract, as the simulated kubelet honours it: a native sidecar (an init
// container with `restartPolicy: Always`) named `roam-results` with ROAM_RESULTS_UPLOAD_URL.
// On a cluster it waits for SIGTERM, which the kubelet sends once the main containers have
// exited, then tars ROAM_RESULTS_DIR and PUTs it to the URL (nothing when the directory is
// empty). Here the kubelet does the same
// with the pod's file store before it reports the pod finished. A multi-pod job's pod has
// ROAM_RESULTS_MANIFEST_URL instead: it fetches the manifest and PUTs to its slot's URL.
import { JOB_RESULTS_DIR, packTarGz, RESULTS_CONTAINER } from '@roam/object-store';

import type { Container } from '../api/models.js';
import { envOf } from './inputs.js';

export function isResultsUploader(c: Container): boolean {
  const env = envOf(c);
  return (
    c.name === RESULTS_CONTAINER &&
    (env.ROAM_RESULTS_UPLOAD_URL !== undefined || env.ROAM_RESULTS_MANIFEST_URL !== undefined)
  );
}

/** The upload URL of the pod's slot in the manifest, as the sidecar script's awk finds it. */
async function uploadUrlOf(env: Record<string, string>): Promise<string | undefined> {
  if (env.ROAM_RESULTS_MANIFEST_URL === undefined) return env.ROAM_RESULTS_UPLOAD_URL;
  const response = await fetch(env.ROAM_RESULTS_MANIFEST_URL);
  if (!response.ok) return undefined;
  const slot = `${env.ROAM_REPLICATED_JOB ?? 'main'}/${env.ROAM_RESULTS_JOB_INDEX ?? '0'}/${env.ROAM_RESULTS_COMPLETION_INDEX ?? '0'}`;
  for (const line of (await response.text()).split('\n')) {
    const [name, url] = line.split(' ');
    if (name === slot) return url;
  }
  return undefined;
}

export interface UploadOutcome {
  exitCode: number;
  /** What the sidecar prints (to its own log). */
  lines: string[];
  /**
   * Nothing to upload: the wrapper, which prints to the job's log, says nothing then; the
   * sidecar says `NO_RESULTS_MESSAGE` in its termination message.
   */
  empty?: true;
}

/** Packs the files under the container's ROAM_RESULTS_DIR and PUTs the archive. */
export async function uploadResults(
  c: Container,
  files: ReadonlyMap<string, Buffer>,
): Promise<UploadOutcome> {
  const env = envOf(c);
  const dir = `${(env.ROAM_RESULTS_DIR ?? JOB_RESULTS_DIR).replace(/\/+$/, '')}/`;
  const kept = [...files]
    .filter(([path]) => path.startsWith(dir))
    .map(([path, data]) => [path.slice(dir.length), data] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // The scripts upload nothing when the directory is empty (`has_results`).
  if (kept.length === 0)
    return { exitCode: 0, lines: ['roam-results: no results to upload'], empty: true };
  try {
    const archive = await packTarGz(kept);
    const url = await uploadUrlOf(env);
    if (!url) return { exitCode: 1, lines: ['roam-results: no upload URL for this pod'] };
    const response = await fetch(url, {
      method: 'PUT',
      body: archive,
      headers: { 'Content-Type': 'application/gzip' },
    });
    if (!response.ok)
      return {
        exitCode: 1,
        lines: [`curl: (22) The requested URL returned error: ${response.status}`],
      };
    return {
      exitCode: 0,
      lines: [`[sim] roam-results: uploaded ${kept.length} files (${archive.length} bytes)`],
    };
  } catch (error) {
    return { exitCode: 1, lines: [`roam-results: ${(error as Error).message}`] };
  }
}
