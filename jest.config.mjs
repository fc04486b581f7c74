// Jest 30 in ESM mode (see README, "Tests"). Every file is transformed by SWC with decorator
// metadata so Nest modules load as they do at run time. `@roam/<lib>` resolves to the lib's
// TypeScript source, so tests never depend on a stale build.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@roam/sim$': '<rootDir>/apps/sim/src/index.ts',
    '^@roam/client$': '<rootDir>/clients/typescript/src/index.ts',
    '^@roam/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

/** The roam-mode suites the `kueue` project runs again with ROAM_ADMISSION=kueue. */
const KUEUE_FLOWS = [
  'test/jobs-lifecycle.test.ts',
  'apps/gateway/test/tenants.test.ts',
  'apps/gateway/test/results-paging.test.ts',
  'apps/gateway/test/webhooks.test.ts',
];

export default {
  maxWorkers: 2,
  // Every suite's ESM module graph stays in its worker's heap (~35 MB a suite); past a few
  // dozen suites the worker spends its time in GC (a 2 s suite took 65 s). A worker above this
  // after a suite is replaced.
  workerIdleMemoryLimit: '800MB',
  // Integration suites start real services; a bounded wait inside a test fails first, with its own message.
  testTimeout: 120_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/*/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    },
    {
      // The flows of jobs, tenants, results and webhooks again, unchanged, with Kueue admitting
      // (ROAM_ADMISSION=kueue): the same suites, their harness switched by the setup file.
      ...common,
      displayName: 'kueue',
      setupFiles: ['<rootDir>/test/support/kueue-admission.setup.ts'],
      testMatch: KUEUE_FLOWS.map((path) => `<rootDir>/${path}`),
    },
  ],
};
