// Thin launcher for the simulator benchmark: the code lives in apps/sim/src/bench.ts (type
// checked, built to dist). Build first: `pnpm bench:sim` does both.
await import('../apps/sim/dist/bench.js');
