import type { Provider } from '@nestjs/common';
import { Kube } from '@roam/kube';
import { APP_CONFIG } from '@roam/runtime';
import { type RunPod, RunPodHttpClient } from '@roam/runpod';

import type { OffloadConfig } from './offload.config.js';

export const RUNPOD = Symbol('RUNPOD');

interface SecretObject {
  data?: Record<string, string>;
}

/** The RunPod client; its key from RUNPOD_API_KEY, else from the Kubernetes Secret (the RunPod controller). */
export const runpodProvider: Provider = {
  provide: RUNPOD,
  inject: [APP_CONFIG, Kube],
  useFactory: async (config: OffloadConfig, kube: Kube): Promise<RunPod> => {
    let apiKey = config.RUNPOD_API_KEY;
    if (!apiKey) {
      const [namespace, name, key] = config.RUNPOD_API_KEY_SECRET.split('/') as [
        string,
        string,
        string,
      ];
      const secret = await kube.get<SecretObject & { apiVersion: string; kind: string }>({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace,
        name,
      });
      const value = secret?.data?.[key];
      // Fail at boot, naming where the key was looked for, rather than 401 on every call later.
      if (!value)
        throw new Error(
          `no RunPod API key: set RUNPOD_API_KEY or create Secret ${namespace}/${name} with key ${key}`,
        );
      apiKey = Buffer.from(value, 'base64').toString('utf8').trim();
    }
    return new RunPodHttpClient({
      restUrl: config.RUNPOD_API_URL,
      ...(config.RUNPOD_GRAPHQL_URL ? { graphqlUrl: config.RUNPOD_GRAPHQL_URL } : {}),
      apiKey,
      timeoutMs: config.RUNPOD_TIMEOUT_MS,
      maxAttempts: config.RUNPOD_ATTEMPTS,
    });
  },
};
