import { setTimeout as delay } from 'node:timers/promises';

import {
  type ComputeInstance,
  ComputeError,
  type ComputePort,
  type DeleteResult,
} from './compute.js';

const METADATA = 'http://metadata.google.internal/computeMetadata/v1';
export const GCE_DEFAULT_URL = 'https://compute.googleapis.com';

export interface GceComputeOptions {
  /** `https://compute.googleapis.com`, or the simulator's URL. */
  baseUrl?: string;
  /** GCP project; read from the metadata server when absent. */
  project?: string;
  /** GKE cluster name, to tell apart pools of the same name in two clusters of a project. */
  cluster?: string;
  /**
   * Bearer token. Absent: the metadata server's service-account token (workload identity) when
   * talking to Google, no Authorization header when talking to another URL (the simulator).
   */
  accessToken?: string;
  /** Per request, metadata server included. */
  timeoutMs?: number;
  /**
   * Attempts of a request that failed retryably (timeout, network error, 429, 5xx). Every call
   * here is safe to repeat: listing reads, and deleting skips instances already gone. Default 3.
   */
  attempts?: number;
  fetch?: typeof fetch;
}

interface Igm {
  name: string;
  zone: string;
}

const lastSegment = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/**
 * Compute Engine REST adapter. A GKE node pool is one managed instance group per zone, named
 * `gke-<cluster>-<pool>-<hash>-grp`; its instances are named like its nodes. Deleting goes
 * through the group (`deleteInstances`), so the group's autohealing/resize recreates it.
 */
export class GceCompute implements ComputePort {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly fetch: typeof fetch;
  private project: string | undefined;
  private token: { value: string; expiresAt: number } | undefined;

  constructor(private readonly options: GceComputeOptions = {}) {
    this.baseUrl = (options.baseUrl ?? GCE_DEFAULT_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.fetch = options.fetch ?? fetch;
    this.project = options.project;
  }

  async listInstances(pool: string): Promise<ComputeInstance[]> {
    const groups = await this.groupsOf(pool);
    const out: ComputeInstance[] = [];
    for (const group of groups) {
      let pageToken: string | undefined;
      do {
        const page = await this.request<{
          managedInstances?: {
            instance: string;
            id?: string;
            instanceStatus?: string;
            currentAction?: string;
          }[];
          nextPageToken?: string;
        }>(
          'POST',
          `${await this.zonePath(group.zone)}/instanceGroupManagers/${group.name}/listManagedInstances${pageToken ? `?pageToken=${encodeURIComponent(pageToken)}` : ''}`,
        );
        for (const managed of page.managedInstances ?? []) {
          const action =
            managed.currentAction && managed.currentAction !== 'NONE'
              ? managed.currentAction
              : undefined;
          out.push({
            name: lastSegment(managed.instance),
            zone: group.zone,
            id: managed.id ?? '',
            group: group.name,
            status: action ?? managed.instanceStatus ?? 'UNKNOWN',
          });
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
    }
    return out;
  }

  async deleteInstance(_pool: string, instance: ComputeInstance): Promise<DeleteResult> {
    // skipInstancesOnValidationError: an instance already gone from the group is not an error,
    // which makes a repeated delete (after a crash) harmless.
    const operation = await this.request<{ name?: string; status?: string }>(
      'POST',
      `${await this.zonePath(instance.zone)}/instanceGroupManagers/${instance.group}/deleteInstances`,
      {
        instances: [`zones/${instance.zone}/instances/${instance.name}`],
        skipInstancesOnValidationError: true,
      },
    );
    return { operation: operation.name ?? '', status: operation.status ?? 'UNKNOWN' };
  }

  private async groupsOf(pool: string): Promise<Igm[]> {
    const prefix = this.options.cluster ? `gke-${this.options.cluster}-` : 'gke-';
    const groups: Igm[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.request<{
        items?: Record<string, { instanceGroupManagers?: { name: string; zone?: string }[] }>;
        nextPageToken?: string;
      }>(
        'GET',
        `/compute/v1/projects/${await this.projectId()}/aggregated/instanceGroupManagers${pageToken ? `?pageToken=${encodeURIComponent(pageToken)}` : ''}`,
      );
      for (const [scope, entry] of Object.entries(page.items ?? {})) {
        for (const igm of entry.instanceGroupManagers ?? []) {
          if (!igm.name.startsWith(prefix) || !igm.name.includes(`-${pool}-`)) continue;
          groups.push({ name: igm.name, zone: lastSegment(igm.zone ?? scope) });
        }
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return groups;
  }

  private async zonePath(zone: string): Promise<string> {
    return `/compute/v1/projects/${await this.projectId()}/zones/${zone}`;
  }

  private async projectId(): Promise<string> {
    this.project ??= (await this.metadata('/project/project-id')).trim();
    return this.project;
  }

  private async authorization(): Promise<Record<string, string>> {
    if (this.options.accessToken) return { authorization: `Bearer ${this.options.accessToken}` };
    if (this.baseUrl !== GCE_DEFAULT_URL) return {};
    if (!this.token || this.token.expiresAt - 60_000 < Date.now()) {
      const body = JSON.parse(await this.metadata('/instance/service-accounts/default/token')) as {
        access_token: string;
        expires_in: number;
      };
      this.token = { value: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    }
    return { authorization: `Bearer ${this.token.value}` };
  }

  private async metadata(path: string): Promise<string> {
    const response = await this.send(`${METADATA}${path}`, {
      headers: { 'metadata-flavor': 'Google' },
    });
    const text = await response.text();
    if (!response.ok)
      throw new ComputeError(
        `metadata server ${path}: HTTP ${response.status}`,
        response.status,
        response.status >= 500,
      );
    return text;
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await this.send(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(await this.authorization()),
        ...(body !== undefined || method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON: keep the text
      }
      const retryable = response.status === 429 || response.status >= 500;
      throw new ComputeError(
        `compute API ${method} ${path}: HTTP ${response.status}: ${message}`,
        response.status,
        retryable,
      );
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** One request, repeated (short doubling pause) while it fails retryably, `attempts` in all. */
  private async send(url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.sendOnce(url, init);
        const retryable = response.status === 429 || response.status >= 500;
        if (!retryable || attempt >= this.attempts) return response;
        await response.body?.cancel();
      } catch (error) {
        if (attempt >= this.attempts || !(error instanceof ComputeError) || !error.retryable)
          throw error;
      }
      await delay(Math.min(100 * 2 ** (attempt - 1), 2000));
    }
  }

  private async sendOnce(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new ComputeError(
        timedOut
          ? `compute API ${url}: no answer within ${this.timeoutMs} ms`
          : `compute API ${url}: ${String(error)}`,
        undefined,
        true,
      );
    }
  }
}
