import { runApp } from '@roam/runtime';

import { storageEnv } from './storage.config.js';
import { StorageModule } from './storage.module.js';

await runApp({ name: 'storage', schema: storageEnv, module: StorageModule });
