import type { ArchiveFormat } from './archive.js';
import { replicaResultsUploadKey, resultsUploadKey, resultsUploadManifestKey } from './keys.js';
import type { ObjectStore } from './object-store.js';

/** Where a job finds its unpacked inputs and leaves its results, wherever it runs. */
export const JOB_INPUTS_DIR = '/roam/inputs';
export const JOB_RESULTS_DIR = '/roam/results';

/** The init container that fetches a job's inputs, and the native sidecar that uploads its results (simulators know them by name). */
export const INPUTS_CONTAINER = 'roam-inputs';
/** The init container that fetches a job's dependencies' results (`inputs_from_dependencies`). */
export const DEPS_CONTAINER = 'roam-deps';
/** Where under the inputs directory the dependencies' results land. */
export const DEPS_INPUTS_SUBDIR = 'deps';

/**
 * What the `roam-deps` init container runs (busybox: sh, wget, mktemp): fails with
 * ROAM_DEPS_ERROR when set; otherwise reads the manifest at ROAM_DEPS_MANIFEST_URL, one
 * `<presigned GET> <path>` a line (the path is the rest of the line; result paths were checked
 * when stored), and fetches each file to `$ROAM_INPUTS_DIR/deps/<path>`.
 */
export const DEPS_FETCH_SCRIPT = [
  'set -eu',
  'if [ -n "${ROAM_DEPS_ERROR:-}" ]; then echo "roam-deps: $ROAM_DEPS_ERROR" >&2; exit 1; fi',
  `dir="$ROAM_INPUTS_DIR/${DEPS_INPUTS_SUBDIR}"`,
  'mkdir -p "$dir"',
  'list=$(mktemp)',
  'wget -q -O "$list" "$ROAM_DEPS_MANIFEST_URL"',
  'n=0',
  'while read -r url path; do mkdir -p "$(dirname "$dir/$path")"; wget -q -O "$dir/$path" "$url"; n=$((n + 1)); done < "$list"',
  'rm -f "$list"',
  'echo "roam-deps: fetched $n files into $dir"',
].join('\n');
export const RESULTS_CONTAINER = 'roam-results';

/**
 * What the results sidecar leaves as its termination message (`/dev/termination-log`, which
 * the kubelet copies into the container's status; `$ROAM_TERMINATION_LOG` elsewhere, as in its
 * tests) when the job left no results: the storage worker, which reads the pod anyway for its
 * log, then knows there is no upload without asking the store. Any other message (or none: an
 * older sidecar) means "look".
 */
export const NO_RESULTS_MESSAGE = 'roam-results: none';

/** S3's longest presigned URL. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** A results upload URL outlives the run: its deadline and an hour, at most S3's 7 days. */
const resultsUploadTtl = (deadlineSeconds: number | undefined): number =>
  Math.min(MAX_PRESIGN_SECONDS, (deadlineSeconds ?? MAX_PRESIGN_SECONDS) + 3600);

/**
 * `has_results`: whether the job left anything in `$ROAM_RESULTS_DIR` (hidden files too), in
 * plain sh (globs and `test`, nothing an image might lack). Without results there is no upload
 * at all, which the storage worker reads as no results: most jobs leave none, and an empty
 * archive cost the store a PUT, a GET and a DELETE per job.
 */
const HAS_RESULTS =
  'has_results() { for f in "$ROAM_RESULTS_DIR"/* "$ROAM_RESULTS_DIR"/.[!.]* "$ROAM_RESULTS_DIR"/..?*; do if [ -e "$f" ] || [ -L "$f" ]; then return 0; fi; done; return 1; }';

/**
 * How a job's results leave wherever it ran (docs/storage.md): pack `$ROAM_RESULTS_DIR` as a
 * tar.gz and PUT it to `$ROAM_RESULTS_UPLOAD_URL`, a presigned URL for
 * `resultsUploadKey(tenant, job, attempt)`, unless the directory is empty (`HAS_RESULTS`). On
 * Kubernetes a native sidecar does it once main has exited; on RunPod, where there are no
 * sidecars, a wrapper around the job's command does. The storage worker unpacks the archive;
 * the simulators recognise both scripts. Needs sh, tar and curl (curl's own image has all three).
 */
const UPLOAD = [
  'mkdir -p "$ROAM_RESULTS_DIR"',
  'tar -czf /tmp/roam-results.tar.gz -C "$ROAM_RESULTS_DIR" .',
  'curl -fsS --retry 3 -X PUT -H "Content-Type: application/gzip" --upload-file /tmp/roam-results.tar.gz "$ROAM_RESULTS_UPLOAD_URL"',
].join(' && ');

/**
 * A pod of a multi-pod job has no URL of its own in its spec (every pod of a Job shares one
 * template): it reads `$ROAM_RESULTS_MANIFEST_URL`, one `<slot> <presigned PUT>` a line, and
 * takes the line of its slot, `<replicated job or main>/<child Job index>/<completion index>`
 * (`resultSlotsOf`), from its own labels through the downward API.
 */
const PICK_URL = [
  'if [ -n "${ROAM_RESULTS_MANIFEST_URL:-}" ]; then',
  'slot="${ROAM_REPLICATED_JOB:-main}/${ROAM_RESULTS_JOB_INDEX:-0}/${ROAM_RESULTS_COMPLETION_INDEX:-0}";',
  'ROAM_RESULTS_UPLOAD_URL=$(curl -fsS --retry 3 "$ROAM_RESULTS_MANIFEST_URL" | awk -v slot="$slot" \'$1 == slot { print $2 }\');',
  '[ -n "$ROAM_RESULTS_UPLOAD_URL" ] || { echo "roam-results: no upload URL for $slot" >&2; exit 1; };',
  'fi;',
].join(' ');

/**
 * The sidecar: creates the results directory, sleeps until the kubelet's SIGTERM (sent once
 * main has exited), then uploads (a multi-pod job's pod first finds its own URL).
 */
export const RESULTS_SIDECAR_SCRIPT = [
  // Started before main (a native sidecar), so the directory is there when main starts.
  'mkdir -p "$ROAM_RESULTS_DIR"',
  HAS_RESULTS,
  // `kill $!` ends the pending sleep, which would otherwise outlive the shell.
  `upload() { kill $! 2>/dev/null; if ! has_results; then echo "roam-results: no results to upload"; printf '%s' '${NO_RESULTS_MESSAGE}' 2>/dev/null >"\${ROAM_TERMINATION_LOG:-/dev/termination-log}"; exit 0; fi; ${PICK_URL} ${UPLOAD}; exit $?; }`,
  'trap upload TERM',
  'while true; do sleep 3600 & wait $!; done',
].join('\n');

/**
 * The wrapper: fetches and unpacks the inputs when `$ROAM_INPUTS_URL` is set (as the
 * `roam-inputs` init container does on Kubernetes; needs unzip for a zip), creates the results
 * directory, runs the job's command, uploads whatever it left, and exits with the job's code.
 */
export const RESULTS_WRAPPER_SCRIPT = [
  'if [ -n "${ROAM_INPUTS_URL:-}" ]; then',
  '  { mkdir -p "$ROAM_INPUTS_DIR" && curl -fsS --retry 3 -o /tmp/roam-inputs "$ROAM_INPUTS_URL" &&',
  '    if [ "$ROAM_INPUTS_FORMAT" = zip ]; then unzip -o -q /tmp/roam-inputs -d "$ROAM_INPUTS_DIR"; else tar -xzf /tmp/roam-inputs -C "$ROAM_INPUTS_DIR"; fi; } ||',
  '    { echo "roam: could not fetch the inputs" >&2; exit 1; }',
  'fi;',
  'mkdir -p "$ROAM_RESULTS_DIR"',
  '"$@"',
  'rc=$?',
  HAS_RESULTS,
  // Nothing left, nothing to upload (and nothing said: this is the job's own log).
  'if [ -n "${ROAM_RESULTS_UPLOAD_URL:-}" ] && has_results; then',
  `  { ${UPLOAD}; } || echo "roam: the results upload failed" >&2`,
  'fi;',
  'exit $rc',
].join('\n');

const WRAPPER_NAME = 'roam-job';

/** `command` run through the wrapper: `sh -c <wrapper> roam-job <command…>`. */
export function wrapForResults(command: readonly string[]): string[] {
  return ['sh', '-c', RESULTS_WRAPPER_SCRIPT, WRAPPER_NAME, ...command];
}

/** The job's own command inside a wrapped one, or `undefined` when it is not wrapped. */
export function unwrapResults(command: readonly string[] | undefined): string[] | undefined {
  if (!command || command.length < 4) return undefined;
  const [sh, flag, script, name] = command;
  return sh === 'sh' && flag === '-c' && script === RESULTS_WRAPPER_SCRIPT && name === WRAPPER_NAME
    ? command.slice(4)
    : undefined;
}

/** How an archive kept under `inputsKey` is unpacked (its kind is in its name). */
export const inputsFormatOf = (key: string): ArchiveFormat =>
  key.endsWith('.zip') ? 'zip' : 'tar.gz';

/** The URLs a run gets to move its files, wherever it runs. */
export interface PresignedJobFiles {
  inputs?: { url: string; format: ArchiveFormat };
  resultsUploadUrl?: string;
  /** A multi-pod attempt: a presigned GET of the manifest of its pods' upload URLs. */
  resultsManifestUrl?: string;
}

/**
 * Presigns one attempt's files: a GET of its input archive (if it has one) valid for
 * `inputsTtlSeconds`, and the PUT its results upload goes to, valid for the run's deadline
 * (see `resultsUploadTtl`). A store without URLs (a directory) gives none.
 */
export async function presignJobFiles(
  store: ObjectStore,
  job: {
    id: string;
    tenantId: string;
    attempt: number;
    deadlineSeconds: number | undefined;
    inputsKey: string | null | undefined;
    /** A multi-pod job's pods (`resultSlotsOf`): each gets its own upload, via a manifest. */
    resultSlots?: readonly { slot: string; prefix: string }[] | undefined;
  },
  inputsTtlSeconds: number,
): Promise<PresignedJobFiles> {
  const ttl = resultsUploadTtl(job.deadlineSeconds);
  const url = job.inputsKey ? await store.presignGet(job.inputsKey, inputsTtlSeconds) : undefined;
  const inputs =
    url && job.inputsKey ? { inputs: { url, format: inputsFormatOf(job.inputsKey) } } : {};
  if (job.resultSlots) {
    const lines: string[] = [];
    for (const { slot, prefix } of job.resultSlots) {
      const put = await store.presignPut(
        replicaResultsUploadKey(job.tenantId, job.id, job.attempt, prefix),
        ttl,
      );
      if (!put) return inputs;
      lines.push(`${slot} ${put}\n`);
    }
    const key = resultsUploadManifestKey(job.tenantId, job.id, job.attempt);
    const body = Buffer.from(lines.join(''), 'utf8');
    await store.put(key, body, body.length, 'text/plain; charset=utf-8');
    const manifest = await store.presignGet(key, ttl);
    return { ...inputs, ...(manifest ? { resultsManifestUrl: manifest } : {}) };
  }
  const resultsUploadUrl = await store.presignPut(
    resultsUploadKey(job.tenantId, job.id, job.attempt),
    ttl,
  );
  return { ...inputs, ...(resultsUploadUrl ? { resultsUploadUrl } : {}) };
}
