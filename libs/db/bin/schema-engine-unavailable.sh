#!/bin/sh
# Stand-in for Prisma's native schema-engine binary, which cannot be downloaded on machines
# without access to binaries.prisma.sh. prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY here
# so that `prisma generate`, `validate` and `format` (which never run the engine) work offline.
# Commands that do need the engine land here and fail with directions instead of a DNS error.
echo "prisma: the native schema engine is not available on this machine." >&2
echo "Apply migrations with 'pnpm db:migrate' and create them with 'pnpm db:migration <name>'," >&2
echo "or set PRISMA_SCHEMA_ENGINE_BINARY to a real schema-engine binary." >&2
exit 1
