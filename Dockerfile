# syntax=docker/dockerfile:1
# One image for every roam app. The app is the argument:
#   docker run roam gateway | scheduler | reconciler | storage | offload | failover | notifier
#   docker run roam migrate          # create the database if missing, apply prisma/migrations
# Kubernetes sets `args: [<app>]`; compose sets `command: [<app>]` (see deploy/README.md).
#
# Stages: fetch (store from the lockfile only) → build (full install, SWC build, then a pruned
# production install in place) → runtime (dist + production node_modules, nothing else).
#
# Why a pruned install and not `pnpm deploy --prod` per app: the seven apps share one dependency
# tree; a single `pnpm install --prod` keeps one virtual store (node_modules/.pnpm) with the
# workspace symlinks intact, where seven `pnpm deploy` copies would duplicate every dependency
# seven times (and need `inject-workspace-packages`). The dev-only packages (apps/stack with its
# embedded Postgres binaries, libs/testing) are filtered out. The Kubernetes simulator (apps/sim,
# one small dependency) stays, so compose or a dev cluster can run `roam sim`.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG PNPM_VERSION=12.21.0

FROM ${NODE_IMAGE} AS base
ARG PNPM_VERSION
# No `packageManager` field and no corepack: pnpm 12 is installed from the npm registry.
RUN npm install --global --no-fund --no-audit pnpm@${PNPM_VERSION}
ENV PNPM_STORE=/pnpm/store
WORKDIR /repo

# Every package in the lockfile lands in the store. This layer changes only with the lockfile.
FROM base AS fetch
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch --store-dir "$PNPM_STORE"

FROM fetch AS build
COPY . .
RUN pnpm install --frozen-lockfile --offline --store-dir "$PNPM_STORE" \
 && node scripts/build.mjs
# Production dependencies only, same layout (relative symlinks), without the dev-only packages.
RUN rm -rf node_modules apps/*/node_modules libs/*/node_modules \
 && pnpm install --prod --frozen-lockfile --offline --store-dir "$PNPM_STORE" \
      --filter '!@roam/stack' --filter '!@roam/testing' \
 && mkdir -p /out \
 && cp -a package.json node_modules prisma /out/ \
 && for pkg in apps/* libs/*; do \
      case "$pkg" in apps/stack|libs/testing) continue ;; esac; \
      [ -d "$pkg/dist" ] || continue; \
      mkdir -p "/out/$pkg" && cp -a "$pkg/package.json" "$pkg/dist" "/out/$pkg/"; \
      if [ -d "$pkg/node_modules" ]; then cp -a "$pkg/node_modules" "/out/$pkg/"; fi; \
    done \
 && find /out -name '*.map' -delete \
 && cp deploy/docker/launch.mjs /out/launch.mjs

FROM ${NODE_IMAGE} AS runtime
# Listen on every interface inside the container (the apps default to 127.0.0.1).
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
# Root owns the files; the process runs as the unprivileged `node` user (uid 1000) and cannot
# modify them, so the container also runs with a read-only root filesystem.
COPY --from=build /out/ /app/
USER 1000:1000
# No HEALTHCHECK: one image serves seven apps on seven ports plus a one-shot migration, so no
# single check fits. Kubernetes ignores HEALTHCHECK and uses the Deployments' liveness and
# readiness probes; docker-compose.yml declares a healthcheck per service
# (`node /app/launch.mjs probe http://127.0.0.1:<PORT>/health/ready`).
ENTRYPOINT ["node", "/app/launch.mjs"]
CMD ["gateway"]
