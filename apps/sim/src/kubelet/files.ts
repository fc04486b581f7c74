// Files simulated containers "write": kept per pod, and per PVC when the path falls under a
// mounted claim, so result collection from a volume can be tested.
import type { Pod } from '../api/models.js';

export class FileStore {
  private readonly byPod = new Map<string, Map<string, string>>();
  private readonly byClaim = new Map<string, Map<string, string>>();

  write(pod: Pod, container: string, path: string, content: string, append: boolean): void {
    const podKey = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    this.put(this.byPod, podKey, path, content, append);
    const spec = (pod.spec?.containers ?? []).find((c) => c.name === container);
    for (const m of spec?.volumeMounts ?? []) {
      const vol = (pod.spec?.volumes ?? []).find((v) => v.name === m.name);
      const claim = vol?.persistentVolumeClaim?.claimName;
      const mount = m.mountPath.replace(/\/+$/, '');
      if (claim && (path === mount || path.startsWith(`${mount}/`))) {
        const rel = path.slice(mount.length).replace(/^\/+/, '');
        this.put(
          this.byClaim,
          `${pod.metadata.namespace ?? ''}/${claim}`,
          m.subPath ? `${m.subPath}/${rel}` : rel,
          content,
          append,
        );
      }
    }
  }

  private put(
    map: Map<string, Map<string, string>>,
    key: string,
    path: string,
    content: string,
    append: boolean,
  ): void {
    let files = map.get(key);
    if (!files) map.set(key, (files = new Map<string, string>()));
    files.set(path, append ? (files.get(path) ?? '') + content : content);
  }

  /** Files a pod wrote, by absolute path. */
  forPod(namespace: string, pod: string): Record<string, string> {
    return Object.fromEntries(this.byPod.get(`${namespace}/${pod}`) ?? []);
  }

  /** Files on a PVC, by path relative to the volume root. */
  forClaim(namespace: string, claim: string): Record<string, string> {
    return Object.fromEntries(this.byClaim.get(`${namespace}/${claim}`) ?? []);
  }

  forgetPod(namespace: string, pod: string): void {
    this.byPod.delete(`${namespace}/${pod}`);
  }
}
