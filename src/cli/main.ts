#!/usr/bin/env node
import { runDemo } from './demo.js';

const USAGE = `Usage: headless-peers <command>

Commands:
  demo     show peer discovery against an embedded cluster DNS (no cluster needed)
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === 'demo') {
    await runDemo();
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  process.stderr.write(`headless-peers: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`headless-peers: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
