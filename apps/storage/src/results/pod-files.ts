import type { Kube } from '@roam/kube';

/** A file a finished pod left in its results directory. */
export interface PodFile {
  /** Relative to the results directory. */
  path: string;
  content: Buffer;
}

/**
 * Port: the files a pod wrote under `dir`. Only the simulator can answer it after the pod ended
 * (its kubelet keeps a file store); on a real cluster results leave the pod through the
 * uploader sidecar instead (docs/storage.md), and `NoPodFiles` stands in.
 */
export interface PodFiles {
  read(namespace: string, pod: string, dir: string): Promise<PodFile[]>;
}

export const POD_FILES = Symbol('POD_FILES');

export class NoPodFiles implements PodFiles {
  read(): Promise<PodFile[]> {
    return Promise.resolve([]);
  }
}

/** The simulator's `/sim/v1/…/pods/{pod}/files` route, on the API server the kubeconfig names. */
export class SimulatorPodFiles implements PodFiles {
  constructor(private readonly kube: Kube) {}

  async read(namespace: string, pod: string, dir: string): Promise<PodFile[]> {
    const url = `${this.kube.server}/sim/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/files`;
    const response = await fetch(url);
    if (!response.ok)
      throw new Error(`simulator files of ${namespace}/${pod}: HTTP ${response.status}`);
    const body = (await response.json()) as { files: Record<string, string> };
    const base = `${dir.replace(/\/+$/, '')}/`;
    return Object.entries(body.files)
      .filter(([path]) => path.startsWith(base))
      .map(([path, content]) => ({
        path: path.slice(base.length),
        content: Buffer.from(content, 'utf8'),
      }));
  }
}
