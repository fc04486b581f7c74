// The image's entrypoint: one image runs every roam app, chosen by the first argument.
//   launch.mjs <app> [args…]     runs apps/<app>/dist/main.js in this process (signals reach it directly)
//   launch.mjs migrate [args…]   runs `libs/db/dist/migrate/cli.js deploy`: create the DB if missing, apply prisma/migrations
//   launch.mjs probe <url>       exits 0 when GET <url> answers 2xx within 3 s (compose healthchecks; the image has no curl)
// ROAM_ROOT overrides where the built tree is (default: this file's directory, /app in the image).
// ROAM_LAUNCH_DRY_RUN=1 prints what would run as JSON instead of running it (tests use it).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(process.env.ROAM_ROOT || dirname(fileURLToPath(import.meta.url)));
const [command = 'gateway', ...rest] = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`launch: ${message}\n`);
  process.exit(64); // EX_USAGE
}

/** The module to run and the arguments it should see, or a usage error. */
function resolveCommand() {
  if (command === 'migrate') {
    return { module: join(root, 'libs/db/dist/migrate/cli.js'), args: ['deploy', ...rest] };
  }
  if (!/^[a-z][a-z0-9-]*$/.test(command)) fail(`not an app name: ${JSON.stringify(command)}`);
  return { module: join(root, 'apps', command, 'dist/main.js'), args: rest };
}

async function probe(url) {
  if (!url) fail('usage: launch.mjs probe <url>');
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    process.exit(response.ok ? 0 : 1);
  } catch {
    process.exit(1);
  }
}

if (command === 'probe') {
  if (process.env.ROAM_LAUNCH_DRY_RUN === '1') {
    process.stdout.write(`${JSON.stringify({ probe: rest[0] ?? null })}\n`);
  } else {
    await probe(rest[0]);
  }
} else {
  const { module, args } = resolveCommand();
  if (process.env.ROAM_LAUNCH_DRY_RUN === '1') {
    process.stdout.write(`${JSON.stringify({ module, args })}\n`);
  } else {
    if (!existsSync(module))
      fail(`${module} does not exist (unknown app, or the build is missing)`);
    // The target reads process.argv.slice(2), as if it had been started as `node <module> …`.
    process.argv = [process.argv[0], module, ...args];
    await import(pathToFileURL(module).href);
  }
}
