import { runApp } from '@roam/runtime';

import { schedulerEnv } from './scheduler.config.js';
import { SchedulerModule } from './scheduler.module.js';

await runApp({ name: 'scheduler', schema: schedulerEnv, module: SchedulerModule });
