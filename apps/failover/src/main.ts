import { runApp } from '@roam/runtime';

import { failoverEnv } from './failover.config.js';
import { FailoverModule } from './failover.module.js';

await runApp({ name: 'failover', schema: failoverEnv, module: FailoverModule });
