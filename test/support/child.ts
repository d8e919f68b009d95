import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, where children run: `headless-peers` resolves to its sources there. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');

/** How a child process ended: its exit code (null when killed by a signal) and its output. */
export interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs `args` (a TypeScript file and its arguments, or tsx flags such as `-e source`) with
 * tsx in a child process from the package root; resolves when it exits, or kills it after
 * `timeout` ms.
 */
export function runTs(args: string[], options: { env?: Record<string, string>; timeout?: number } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsx, ...args],
      { cwd: root, timeout: options.timeout ?? 30_000, env: { ...process.env, ...options.env } },
      (error, out, err) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

/** Starts `args` with tsx as in {@link runTs}, for a test that talks to it or signals it. */
export function spawnTs(args: string[]): ChildProcess {
  return spawn(process.execPath, [tsx, ...args], { cwd: root });
}
