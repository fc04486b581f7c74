# Generated from clients/openapi.json by clients/python/scripts/generate.mjs: do not edit.
# `pnpm clients:generate` rewrites it; `pnpm check` fails when it is stale.
from .models import *  # noqa: F403
from .operations import AsyncOperations, SyncOperations
