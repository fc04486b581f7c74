// Standalone simulator: `node apps/sim/dist/main.js`, configured by SIM_* variables.
import { optionsFromEnv } from './config.js';
import { logError } from './log.js';
import { startSimulator } from './simulator.js';

async function main(): Promise<void> {
  let options;
  try {
    options = optionsFromEnv();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const sim = await startSimulator(options);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    options.log(`[sim] ${signal}: shutting down the simulated cluster`);
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logError('shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  logError('failed to start', err);
  process.exit(1);
});
