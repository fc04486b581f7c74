// The roam inputs contract, as the simulated kubelet honours it: an init container named
// `roam-inputs` with ROAM_INPUTS_URL (a presigned GET of the job's archive) or ROAM_INPUTS_FILE
// (the archive on the tenant's results PVC, in PVC mode) is not "run" as a script: the kubelet
// fetches the archive and writes its files under ROAM_INPUTS_DIR into the pod's file store, as
// busybox's wget (or cp) + unzip would into the pod's emptyDir. Also the read-only HTTP door to
// the file store.
import type { IncomingMessage, ServerResponse } from 'node:http';

import {
  DEPS_CONTAINER,
  DEPS_INPUTS_SUBDIR,
  extractArchive,
  INPUTS_CONTAINER,
  JOB_INPUTS_DIR,
} from '@roam/object-store';

import type { Container } from '../api/models.js';
import type { FileStore } from './files.js';

/** The same caps the gateway checks at upload (a fetched archive is trusted no further). */
const LIMITS = { maxEntries: 100_000, maxUncompressedBytes: 4 * 1024 * 1024 * 1024 };

export const envOf = (c: Container): Record<string, string> =>
  Object.fromEntries(
    (c.env ?? []).flatMap((e) => (e.value !== undefined ? [[e.name, e.value]] : [])),
  );

export function isInputsFetcher(c: Container): boolean {
  const env = envOf(c);
  return (
    c.name === INPUTS_CONTAINER &&
    (env.ROAM_INPUTS_URL !== undefined || env.ROAM_INPUTS_FILE !== undefined)
  );
}

export interface FetchOutcome {
  exitCode: number;
  lines: string[];
}

/**
 * Fetches (URL) or reads (`readFile`, a path on a mounted claim) the archive and unpacks it;
 * `write(path, content)` puts one file in the pod's store.
 */
export async function fetchInputs(
  c: Container,
  readFile: (path: string) => Buffer | undefined,
  write: (path: string, content: Buffer) => void,
): Promise<FetchOutcome> {
  const env = envOf(c);
  const dir = (env.ROAM_INPUTS_DIR ?? JOB_INPUTS_DIR).replace(/\/+$/, '');
  try {
    let data: Buffer;
    if (env.ROAM_INPUTS_FILE !== undefined) {
      const found = readFile(env.ROAM_INPUTS_FILE);
      if (!found)
        return { exitCode: 1, lines: [`cp: can't stat '${env.ROAM_INPUTS_FILE}': No such file`] };
      data = found;
    } else {
      if (!env.ROAM_INPUTS_URL)
        return {
          exitCode: 1,
          lines: ['roam-inputs: no inputs URL (the pod has no roam.dev/inputs-url annotation)'],
        };
      const response = await fetch(env.ROAM_INPUTS_URL);
      if (!response.ok)
        return { exitCode: 1, lines: [`wget: server returned error: HTTP ${response.status}`] };
      data = Buffer.from(await response.arrayBuffer());
    }
    const summary = await extractArchive(data, LIMITS, (path, content) =>
      write(`${dir}/${path}`, content),
    );
    return {
      exitCode: 0,
      lines: [`[sim] roam-inputs: unpacked ${summary.entries.length} files into ${dir}`],
    };
  } catch (error) {
    return { exitCode: 1, lines: [`roam-inputs: ${(error as Error).message}`] };
  }
}

/** roam's dependencies fetcher: `roam-deps` with ROAM_DEPS_MANIFEST_URL or ROAM_DEPS_ERROR. */
export function isDepsFetcher(c: Container): boolean {
  const env = envOf(c);
  return (
    c.name === DEPS_CONTAINER &&
    (env.ROAM_DEPS_MANIFEST_URL !== undefined || env.ROAM_DEPS_ERROR !== undefined)
  );
}

/**
 * Does what the `roam-deps` script does: fails with ROAM_DEPS_ERROR, or reads the manifest
 * (`<presigned GET> <path>` a line) and writes each file under `$ROAM_INPUTS_DIR/deps/<path>`.
 */
export async function fetchDependencyInputs(
  c: Container,
  write: (path: string, content: Buffer) => void,
): Promise<FetchOutcome> {
  const env = envOf(c);
  if (env.ROAM_DEPS_ERROR) return { exitCode: 1, lines: [`roam-deps: ${env.ROAM_DEPS_ERROR}`] };
  if (!env.ROAM_DEPS_MANIFEST_URL) return { exitCode: 1, lines: ['roam-deps: no manifest URL'] };
  const dir = `${(env.ROAM_INPUTS_DIR ?? JOB_INPUTS_DIR).replace(/\/+$/, '')}/${DEPS_INPUTS_SUBDIR}`;
  try {
    const manifest = await fetch(env.ROAM_DEPS_MANIFEST_URL);
    if (!manifest.ok)
      return { exitCode: 1, lines: [`wget: server returned error: HTTP ${manifest.status}`] };
    const lines = (await manifest.text()).split('\n').filter((line) => line.length > 0);
    for (const line of lines) {
      const space = line.indexOf(' ');
      const response = await fetch(line.slice(0, space));
      if (!response.ok)
        return { exitCode: 1, lines: [`wget: server returned error: HTTP ${response.status}`] };
      write(`${dir}/${line.slice(space + 1)}`, Buffer.from(await response.arrayBuffer()));
    }
    return { exitCode: 0, lines: [`roam-deps: fetched ${lines.length} files into ${dir}`] };
  } catch (error) {
    return { exitCode: 1, lines: [`roam-deps: ${(error as Error).message}`] };
  }
}

/**
 * `GET /sim/v1/namespaces/{ns}/pods/{pod}/files` and
 * `GET /sim/v1/namespaces/{ns}/persistentvolumeclaims/{claim}/files`: `{ files: { path: text } }`.
 * Answers false for any other path.
 */
export function serveFiles(
  files: FileStore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): boolean {
  const m = /^\/sim\/v1\/namespaces\/([^/]+)\/(pods|persistentvolumeclaims)\/([^/]+)\/files$/.exec(
    path,
  );
  if (!m || req.method !== 'GET') return false;
  const [, ns, kind, name] = m.map((p) => decodeURIComponent(p ?? ''));
  const body = {
    files: kind === 'pods' ? files.forPod(ns!, name!) : files.forClaim(ns!, name!),
  };
  res.writeHead(200, { 'Content-Type': 'application/json', 'X-Simulated': 'true' });
  res.end(JSON.stringify(body));
  return true;
}
