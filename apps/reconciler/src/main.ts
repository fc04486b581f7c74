import { runApp } from '@roam/runtime';

import { reconcilerEnv } from './reconciler.config.js';
import { ReconcilerModule } from './reconciler.module.js';

await runApp({ name: 'reconciler', schema: reconcilerEnv, module: ReconcilerModule });
