import { gatewayEnv } from '@roam/config';
import { runApp } from '@roam/runtime';

import { GatewayModule } from './gateway.module.js';

await runApp({
  name: 'gateway',
  schema: gatewayEnv,
  module: GatewayModule,
});
