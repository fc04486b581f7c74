// Prisma 7 CLI configuration (`prisma generate`, `validate`, `format`, and `migrate` where the
// native engine exists). It deliberately imports nothing: the `prisma` package is a dependency
// of libs/db, not of the root, and Prisma validates this object's shape itself when it loads it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

// Every Prisma CLI command first makes sure a native schema-engine binary is present and tries
// to download one when it is not, which fails on machines without access to Prisma's CDN.
// Pointing the variable at an existing file skips the download; the stand-in script explains
// itself if a command really runs it. Where a real binary is available, set the variable to it.
const engineStandIn = join(root, 'libs/db/bin/schema-engine-unavailable.sh');
if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync(engineStandIn)) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = engineStandIn;
}

export default {
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/roam',
  },
};
