// Files simulated containers "write": kept per pod (its emptyDirs and root filesystem), and per
// PVC when the path falls under a mounted claim. Contents are bytes. With a volumes directory
// (SIM_VOLUMES_DIR) claims live on disk at `<dir>/<namespace>/<claim>/`, the way kind's
// local-path provisioner keeps them, so a process outside the simulator (roam's PVC mode) reads
// and writes the same files a pod sees.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

import type { Container, Pod } from '../api/models.js';
import { withDownwardEnv } from './downward.js';
import { envOf } from './inputs.js';

const bytes = (content: string | Buffer): Buffer =>
  Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');

/** Writes or appends one file of an in-memory file map. */
export function putFile(
  files: Map<string, Buffer>,
  path: string,
  content: string | Buffer,
  append: boolean,
): void {
  const data = bytes(content);
  files.set(path, append ? Buffer.concat([files.get(path) ?? Buffer.alloc(0), data]) : data);
}

/**
 * The `sim.roam.dev/files` annotation (`{ "/abs/path": "content" }`), or undefined when it is
 * not such a JSON object.
 */
export function parseFilesAnnotation(json: string): Record<string, string> | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    return Object.fromEntries(Object.entries(parsed).map(([path, c]) => [path, String(c)]));
  } catch {
    return undefined;
  }
}

/**
 * A mount's `subPathExpr` expanded as the kubelet does: each `$(VAR)` becomes the container's
 * env var (a downward API one resolved against the pod); a reference to a var the container
 * lacks is left as it is, and `$$` is a literal `$`.
 */
export function expandSubPathExpr(expr: string, env: Record<string, string>): string {
  return expr.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (ref, name?: string) =>
    name === undefined ? '$' : (env[name] ?? ref),
  );
}

/** A path inside a claim: the claim, and the path relative to the volume root. */
interface ClaimPath {
  claim: string;
  path: string;
}

export class FileStore {
  private readonly byPod = new Map<string, Map<string, Buffer>>();
  private readonly byClaim = new Map<string, Map<string, Buffer>>();

  constructor(private readonly volumesDir?: string) {}

  write(
    pod: Pod,
    container: string,
    path: string,
    content: string | Buffer,
    append: boolean,
  ): void {
    const data = bytes(content);
    const podKey = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    putFile(this.filesOf(this.byPod, podKey), path, data, append);
    const target = this.claimOf(pod, container, path);
    if (target) this.writeClaim(pod.metadata.namespace ?? '', target, data, append);
  }

  /** The claim (and path in it) a container's absolute path falls in, if it is on a PVC mount. */
  claimOf(pod: Pod, container: string, path: string): ClaimPath | undefined {
    const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
      (c: Container) => c.name === container,
    );
    for (const m of spec?.volumeMounts ?? []) {
      const vol = (pod.spec?.volumes ?? []).find((v) => v.name === m.name);
      const claim = vol?.persistentVolumeClaim?.claimName;
      const mount = m.mountPath.replace(/\/+$/, '');
      if (claim && (path === mount || path.startsWith(`${mount}/`))) {
        const rel = path.slice(mount.length).replace(/^\/+/, '');
        const sub =
          m.subPath ??
          (m.subPathExpr !== undefined && spec
            ? expandSubPathExpr(m.subPathExpr, envOf(withDownwardEnv(spec, pod)))
            : undefined);
        return { claim, path: sub ? `${sub}/${rel}` : rel };
      }
    }
    return undefined;
  }

  private claimDir(namespace: string, claim: string): string | undefined {
    return this.volumesDir ? join(this.volumesDir, namespace, claim) : undefined;
  }

  private writeClaim(namespace: string, target: ClaimPath, data: Buffer, append: boolean): void {
    const dir = this.claimDir(namespace, target.claim);
    if (dir) {
      const file = join(dir, target.path);
      if (relative(dir, file).split(sep).includes('..')) return;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, data, append ? { flag: 'a' } : {});
      return;
    }
    putFile(this.filesOf(this.byClaim, `${namespace}/${target.claim}`), target.path, data, append);
  }

  private filesOf(map: Map<string, Map<string, Buffer>>, key: string): Map<string, Buffer> {
    let files = map.get(key);
    if (!files) map.set(key, (files = new Map<string, Buffer>()));
    return files;
  }

  /** One file of a claim, or undefined. */
  readClaim(namespace: string, target: ClaimPath): Buffer | undefined {
    const dir = this.claimDir(namespace, target.claim);
    if (!dir) return this.byClaim.get(`${namespace}/${target.claim}`)?.get(target.path);
    const file = join(dir, target.path);
    if (relative(dir, file).split(sep).includes('..')) return undefined;
    try {
      return readFileSync(file);
    } catch {
      return undefined;
    }
  }

  /** Files a pod wrote, by absolute path. */
  podFiles(namespace: string, pod: string): Map<string, Buffer> {
    return this.byPod.get(`${namespace}/${pod}`) ?? new Map<string, Buffer>();
  }

  /** Files a pod wrote, by absolute path, as text (the `/files` route and tests). */
  forPod(namespace: string, pod: string): Record<string, string> {
    return Object.fromEntries(
      [...this.podFiles(namespace, pod)].map(([path, data]) => [path, data.toString('utf8')]),
    );
  }

  /** Files on a PVC, by path relative to the volume root, as text. */
  forClaim(namespace: string, claim: string): Record<string, string> {
    const dir = this.claimDir(namespace, claim);
    if (!dir)
      return Object.fromEntries(
        [...(this.byClaim.get(`${namespace}/${claim}`) ?? [])].map(([path, data]) => [
          path,
          data.toString('utf8'),
        ]),
      );
    const out: Record<string, string> = {};
    const walk = (at: string) => {
      let entries;
      try {
        entries = readdirSync(at, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const full = join(at, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.isFile())
          out[relative(dir, full).split(sep).join('/')] = readFileSync(full, 'utf8');
      }
    };
    walk(dir);
    return out;
  }

  forgetPod(namespace: string, pod: string): void {
    this.byPod.delete(`${namespace}/${pod}`);
  }
}
