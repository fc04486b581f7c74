import type { Provider } from '@nestjs/common';
import { Kube } from '@roam/kube';

import { APP_CONFIG, APP_NAME } from './tokens.js';

interface KubeClientConfig {
  KUBECONFIG?: string;
  KUBE_CLIENT_QPS?: number;
  KUBE_CLIENT_BURST?: number;
  KUBE_REQUEST_TIMEOUT_MS?: number;
  KUBE_REQUEST_RETRIES?: number;
  KUBE_LOG_IDLE_TIMEOUT_MS?: number;
}

/**
 * The Kubernetes port for workers that act on the cluster; `KUBECONFIG` picks the cluster, the
 * `KUBE_CLIENT_*`/`KUBE_REQUEST_*` settings its rate limit, timeouts and retries.
 */
export const kubeProvider: Provider = {
  provide: Kube,
  inject: [APP_CONFIG, APP_NAME],
  useFactory: (config: KubeClientConfig, app: string) =>
    Kube.fromKubeconfig(config.KUBECONFIG, `roam-${app}`, {
      ...(config.KUBE_CLIENT_QPS !== undefined ? { qps: config.KUBE_CLIENT_QPS } : {}),
      ...(config.KUBE_CLIENT_BURST !== undefined ? { burst: config.KUBE_CLIENT_BURST } : {}),
      ...(config.KUBE_REQUEST_TIMEOUT_MS !== undefined
        ? { requestTimeoutMs: config.KUBE_REQUEST_TIMEOUT_MS }
        : {}),
      ...(config.KUBE_REQUEST_RETRIES !== undefined
        ? { retries: config.KUBE_REQUEST_RETRIES }
        : {}),
      ...(config.KUBE_LOG_IDLE_TIMEOUT_MS !== undefined
        ? { logIdleTimeoutMs: config.KUBE_LOG_IDLE_TIMEOUT_MS }
        : {}),
    }),
};
