import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { helpText, loadStackConfig, StackConfigError } from './config.js';
import { Output } from './output.js';
import { describeError, Stack, StackStoppedError } from './stack.js';

// `pnpm dev`: the one-command local stack. See apps/stack/README.md.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${helpText()}\n`);
  process.exit(0);
}

let config;
try {
  config = loadStackConfig(process.env, root);
} catch (err) {
  process.stderr.write(
    `[stack] ${err instanceof StackConfigError ? err.message : describeError(err)}\n`,
  );
  process.exit(2);
}

const tty = Boolean(process.stdout.isTTY);
const output = new Output({
  pretty:
    config.ROAM_STACK_LOG_FORMAT === 'pretty' || (config.ROAM_STACK_LOG_FORMAT === 'auto' && tty),
  color: tty && !process.env.NO_COLOR,
  coalesce: true,
});

const stack = new Stack({
  config,
  root,
  output,
  env: process.env,
  // Loaded lazily: the migration engine is heavy and only needed once services are up.
  migrate: async () => (await import('@roam/db')).migrateDatabase,
});

let exitCode = 0;
let firstSignalAt: number | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  if (firstSignalAt === undefined) {
    firstSignalAt = Date.now();
    output.info(`${signal} received, stopping (press Ctrl-C again to force)`);
    void stack.stop().then(() => process.exit(exitCode));
  } else if (Date.now() - firstSignalAt < 1000) {
    // pnpm and other wrappers relay the terminal's signal (or follow it with SIGTERM): one
    // keystroke can arrive twice, and must not count as the impatient second Ctrl-C.
    return;
  } else {
    output.info('forced: killing everything now');
    stack.killAllNow();
    process.exit(130);
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
// Whatever the way out, no child may outlive the launcher.
process.on('exit', () => {
  stack.killAllNow();
  output.flush();
});

try {
  await stack.start();
} catch (err) {
  if (!(err instanceof StackStoppedError)) {
    output.error(describeError(err));
    exitCode = 1;
    await stack.stop();
    process.exit(exitCode);
  }
}
