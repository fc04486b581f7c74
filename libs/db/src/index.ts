// @roam/db: the Prisma client generated from prisma/schema.prisma, its construction over
// node-postgres, Prisma error helpers, and the migration tool. Framework-free on purpose: Nest
// wiring lives in the apps.
export * from './generated/prisma/client.js';
export { createPrismaClient, DEFAULT_POOL_SIZE, type CreatePrismaClientOptions } from './client.js';
export {
  directSql,
  directTransaction,
  type DirectTransactionOptions,
  type RawStatements,
} from './direct-sql.js';
export { isUniqueViolation } from './errors.js';
export {
  DEFAULT_NAMED_STATEMENTS,
  hasStableResultShape,
  statementNames,
} from './statement-names.js';
export * from './admission-snapshot.js';
export * from './log-archives.js';
export {
  migrateDatabase,
  type MigrateDatabaseOptions,
  type MigrateDatabaseResult,
} from './migrate/migrate.js';
export {
  createMigration,
  type CreateMigrationOptions,
  type CreateMigrationResult,
} from './migrate/create.js';
export {
  findMigrationsDir,
  findSchemaPath,
  readMigrations,
  type MigrationFile,
} from './migrate/files.js';
