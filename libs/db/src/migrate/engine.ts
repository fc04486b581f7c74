import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import { describe } from './database-url.js';

/**
 * Loads Prisma's schema engine compiled to WebAssembly. The package's entry point imports the
 * `.wasm` file as an ES module, which Node 20 only does behind a flag, so we load its JS glue
 * and instantiate the module ourselves, the way a bundler would.
 */
interface WasmGlue {
  __wbg_set_wasm(exports: unknown): void;
  SchemaEngine: typeof SchemaEngine;
}

interface WasmInstance {
  exports: { __wbindgen_start?: () => void };
}

interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: WasmInstance }>;
}

const GLUE = '@prisma/schema-engine-wasm/schema_engine_bg';
let loaded: Promise<WasmGlue> | undefined;

/** The engine reports Rust panics through this global; keep the message for our errors. */
let lastPanic: string | undefined;
const panicRegistry = {
  set_message(message: string): void {
    lastPanic = message;
  },
};

async function loadGlue(): Promise<WasmGlue> {
  const glueUrl = createRequire(import.meta.url).resolve(GLUE);
  const glue = (await import(GLUE)) as unknown as WasmGlue;
  const bytes = await readFile(join(dirname(glueUrl), 'schema_engine_bg.wasm'));
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const { instance } = await wasm.instantiate(bytes, { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
  return glue;
}

export interface OpenEngineOptions {
  schema?: { path: string; content: string };
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  log?: (line: string) => void;
}

export async function openSchemaEngine(options: OpenEngineOptions): Promise<SchemaEngine> {
  (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??=
    panicRegistry;
  loaded ??= loadGlue();
  const glue = await loaded;
  const datamodels: [string, string][] | undefined = options.schema
    ? [[options.schema.path, options.schema.content]]
    : undefined;
  const log = options.log ?? (() => undefined);
  const onEngineLine = (line: string): void => {
    if (isWorthLogging(line)) log(line);
  };
  return glue.SchemaEngine.new(
    { datamodels },
    onEngineLine,
    bindMigrationAwareSqlAdapterFactory(options.adapterFactory),
  );
}

/** The engine logs JSON lines; its INFO chatter ("Starting schema-engine-wasm") is noise. */
function isWorthLogging(line: string): boolean {
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return level === 'WARN' || level === 'ERROR';
  } catch {
    return true;
  }
}

/** Rust panics arrive as an unhelpful "unreachable"; add the panic message when we have one. */
export function engineError(err: unknown, context: string, adapterError?: unknown): Error {
  const parts = [err instanceof Error ? err.message : JSON.stringify(err)];
  if (lastPanic !== undefined) parts.push(`panic: ${lastPanic}`);
  if (adapterError !== undefined) parts.push(`database: ${describe(adapterError)}`);
  lastPanic = undefined;
  return new Error(`${context}: ${parts.join('; ')}`, { cause: err });
}
