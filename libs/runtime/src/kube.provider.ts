import type { Provider } from '@nestjs/common';
import { Kube } from '@roam/kube';

import { APP_CONFIG, APP_NAME } from './tokens.js';

/** The Kubernetes port for workers that act on the cluster; `KUBECONFIG` picks the cluster. */
export const kubeProvider: Provider = {
  provide: Kube,
  inject: [APP_CONFIG, APP_NAME],
  useFactory: (config: { KUBECONFIG?: string }, app: string) =>
    Kube.fromKubeconfig(config.KUBECONFIG, `roam-${app}`),
};
