import { findNamed } from './bind.js';

/**
 * The `named` binary for integration tests. Without it the tests are skipped with a loud
 * message on a laptop, and fail under CI=true (where .ci/run installs BIND 9).
 */
export const named = findNamed();
export const inCi = process.env.CI === 'true' || process.env.CI === '1';

if (named === undefined && !inCi) {
  console.warn(
    '\n************************************************************************\n' +
      '*  SKIPPING BIND 9 INTEGRATION TESTS: `named` is not installed.          *\n' +
      '*  Install it with: sudo apt-get install -y bind9 bind9-dnsutils         *\n' +
      '************************************************************************\n',
  );
}

/** Whether to skip: only when named is missing outside CI. */
export const skipIntegration = named === undefined && !inCi;

/** The named path, or a failure that says what is missing (used under CI). */
export function requireNamed(): string {
  if (named === undefined)
    throw new Error('BIND 9 `named` is not installed, and CI=true: integration tests cannot run');
  return named;
}
