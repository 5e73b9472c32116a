import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Package boundaries, checked on every lint (platform/test/unit/lint-boundaries.unit.test.ts proves
 * each rule bites): contracts import nothing of ours, the platform only contracts (and its runtime
 * neither its operator tools nor its test helpers), a service no other service, and a service's
 * `domain/` no I/O — neither its own db/, http/, messaging/, http-clients/ nor an I/O library.
 *
 * A later config block replaces an earlier block's options for the same rule, so each block below
 * lists every pattern its files must obey (a domain file: its service's and the domain's).
 */
const SERVICES = ['product-service', 'order-service', 'notification-service', 'gateway'];
const PACKAGES = ['contracts', 'platform', ...SERVICES, 'e2e'];

/** `@shop/<pkg>…` or a relative path that climbs into `<pkg>/…`. */
const intoPackages = (packages, message) => ({
  regex: `^(@shop/|(\\.\\./)+)(${packages.join('|')})(/|$)`,
  message,
});
const except = (...names) => PACKAGES.filter((name) => !names.includes(name));

const CONTRACTS = [
  intoPackages(
    except('contracts'),
    'contracts import nothing of ours: every package depends on them, not the reverse.',
  ),
];
const PLATFORM = [
  intoPackages(
    except('contracts', 'platform'),
    'the platform imports only @shop/contracts: services depend on it, not the reverse.',
  ),
  { regex: '^@shop/platform(/|$)', message: 'inside the platform, import its modules by relative path.' },
];
const PLATFORM_RUNTIME = [
  ...PLATFORM,
  {
    regex: '^\\.\\.?/(\\.\\./)*(tools|testing)(/|$)',
    message:
      'the runtime never loads the operator tools or the test helpers (their own entry points: @shop/platform/tools, /testing).',
  },
];
const service = (name) => [
  intoPackages(
    except('contracts', 'platform', name),
    `${name} imports no other service: they meet only through HTTP and events (contracts).`,
  ),
  {
    regex: '^@shop/platform/(tools|testing)(/|$)',
    message: 'a service never loads the operator tools or the test helpers.',
  },
];
const DOMAIN = [
  {
    regex: '^(\\.\\./)+(db|http|messaging|http-clients|generated)(/|$)',
    message:
      'domain/ holds rules with no I/O: the use case passes it what it needs from db/, http/, messaging/.',
  },
  {
    regex: '^(pg|kysely|amqplib|amqp-connection-manager|express|axios|@prisma/[^/]+)(/|$)',
    message: 'domain/ holds rules with no I/O: no database, broker or HTTP library.',
  },
];

const restrict = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/src/generated/**', 'bench/results/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['scripts/**', 'bench/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
    rules: { 'no-console': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  restrict(['contracts/src/**'], CONTRACTS),
  restrict(['platform/src/**'], PLATFORM),
  restrict(['platform/src/**'], PLATFORM_RUNTIME, ['platform/src/tools/**', 'platform/src/testing/**']),
  ...SERVICES.map((name) => restrict([`${name}/src/**`], service(name))),
  ...SERVICES.map((name) => restrict([`${name}/src/domain/**`], [...service(name), ...DOMAIN])),
);
