// `node bench/run.mjs test/clients/serve.ts`: the client suites' stack in the foreground, for
// trying the CLI or the Python client by hand; prints the URL and the admin token.
import { ADMIN_TOKEN } from '../support/harness.js';
import { startClientStack } from './stack.js';

const stack = await startClientStack('clients-serve');
process.stdout.write(`ROAM_URL=${stack.url}\nROAM_ADMIN_TOKEN=${ADMIN_TOKEN}\n`);
const stop = () => void stack.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
