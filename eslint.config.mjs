import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', '.serverless', '.esbuild', 'coverage', 'bin/*.js', '*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only handlers/ and cli/ read the environment.' },
      ],
    },
  },
  {
    files: ['handlers/**', 'cli/**', 'bench/**', 'test/**', 'local/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
