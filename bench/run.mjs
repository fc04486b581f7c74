// `node bench/run.mjs bench/<name>.ts`: runs a TypeScript benchmark on Node 20 (which cannot
// run .ts itself) through the SWC load hook in ts-loader.mjs. Benchmarks import the built
// packages (`node scripts/build.mjs` first), print figures, and assert nothing.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/run.mjs bench/<name>.ts');
  process.exit(64);
}
register('./ts-loader.mjs', import.meta.url);
await import(pathToFileURL(file).href);
