import { notifierEnv } from '@roam/config';
import { runApp } from '@roam/runtime';

import { NotifierModule } from './notifier.module.js';

await runApp({ name: 'notifier', schema: notifierEnv, module: NotifierModule });
