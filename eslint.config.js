import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Only the composition root (src/server) and the CLI know the whole graph; every other folder receives its dependencies. */
const COMPOSITION_ROOT = { group: ['**/server/*', '**/server/*.js', '!@simplewebauthn/server/*'], message: 'Only src/server and src/cli compose the app: declare what you need and receive it.' };
/** HTTP surfaces work through domain services, never with the database, the shared store or the sealer. */
const STORES = {
  group: ['@prisma/*', '**/store/*', '**/store/*.js', '**/store/generated/*'],
  message: 'HTTP surfaces use the domain services (src/accounts, src/biometrics, src/verification, …), not the stores.',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/store/generated/', 'data/', 'test-artifacts/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', performance: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/server/**', 'src/cli/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [COMPOSITION_ROOT] }] },
  },
  {
    files: ['src/admin/**/*.ts', 'src/api/**/*.ts', 'src/interaction/**/*.ts', 'src/enrollment/**/*.ts', 'src/bootstrap/**/*.ts', 'src/demo/**/*.ts', 'src/account/**/*.ts', 'src/proofing/routes.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [COMPOSITION_ROOT, STORES] }] },
  },
  {
    // Reading a document is a capability of its own: no HTTP, no store (src/README.md).
    files: ['src/documents/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [COMPOSITION_ROOT, STORES, { group: ['koa', '@koa/*', '**/web/*', '**/api/*'], message: 'src/documents reads documents; the HTTP surfaces use it, not the other way round.' }] },
      ],
    },
  },
  {
    // Browser modules served to the sign-in and admin pages.
    files: ['views/static/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', navigator: 'readonly', fetch: 'readonly', FormData: 'readonly', Blob: 'readonly', URLSearchParams: 'readonly', requestAnimationFrame: 'readonly', location: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', HTMLCanvasElement: 'readonly', HTMLVideoElement: 'readonly', MediaStream: 'readonly', FileReader: 'readonly' } },
  },
);
