/**
 * One jest run for the whole monorepo. Each workspace is a project so `--selectProjects`
 * can run one; sources are transformed by swc (type checking is `npm run typecheck`'s job),
 * and `@shop/*` imports resolve to the sibling package's TypeScript sources, so tests never
 * need a prior build.
 */
const workspaces = [
  'contracts',
  'platform',
  'product-service',
  'order-service',
  'notification-service',
  'gateway',
  'e2e',
];

/** @type {import('jest').Config} */
module.exports = {
  projects: workspaces.map((name) => ({
    displayName: name,
    rootDir: `<rootDir>/${name}`,
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    testEnvironment: 'node',
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
      ],
    },
    moduleNameMapper: {
      '^@shop/([a-z-]+)$': '<rootDir>/../$1/src/index.ts',
      '^@shop/([a-z-]+)/(.+)$': '<rootDir>/../$1/src/$2',
    },
    slowTestThreshold: 20,
  })),
  testTimeout: 60_000,
  maxWorkers: 2,
};
