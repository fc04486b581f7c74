// roam's migration CLI (the native Prisma schema engine is not needed):
//   node libs/db/dist/migrate/cli.js deploy            apply pending migrations to DATABASE_URL
//   node libs/db/dist/migrate/cli.js create <name>     write a migration for the schema's changes
// Options: --migrations-dir <path>, --schema <path>. Exit code 1 on any failure.
import { parseArgs } from 'node:util';
import { createMigration, DEFAULT_DATABASE_URL } from './create.js';
import { redactUrl } from './database-url.js';
import { migrateDatabase } from './migrate.js';

const USAGE = 'usage: cli.js deploy | create <name>  [--migrations-dir <path>] [--schema <path>]';

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'migrations-dir': { type: 'string' },
      schema: { type: 'string' },
    },
  });
  const [command, name, ...extra] = positionals;
  const databaseUrl = process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const log = (line: string): void => void process.stdout.write(`[db] ${line}\n`);
  const migrationsDir = values['migrations-dir'];
  if (command === 'deploy' && name === undefined) {
    log(`migrating ${redactUrl(databaseUrl)}`);
    await migrateDatabase({ databaseUrl, log, ...(migrationsDir ? { migrationsDir } : {}) });
    return;
  }
  if (command === 'create' && name !== undefined && extra.length === 0) {
    await createMigration(name, {
      databaseUrl,
      log,
      ...(migrationsDir ? { migrationsDir } : {}),
      ...(values.schema ? { schemaPath: values.schema } : {}),
    });
    return;
  }
  throw new Error(USAGE);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`[db] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
