import { runApp } from '@roam/runtime';

import { offloadEnv } from './offload.config.js';
import { OffloadModule } from './offload.module.js';

await runApp({ name: 'offload', schema: offloadEnv, module: OffloadModule });
