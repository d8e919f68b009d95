import { isIPv4 } from 'node:net';
import type { decode } from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePeers } from '../../src/index.js';
import { DnsClient } from '../../src/wire/client.js';
import { DnsError } from '../../src/wire/errors.js';
import { encodeQuestion, judge } from '../../src/wire/message.js';
import {
  aRecord,
  compressedResponseTo,
  responseTo,
  type ScriptedServer,
  startScriptedServer,
} from '../support/scripted-server.js';

const NAME = 'fuzz.default.svc.cluster.local';
// The question as the client encodes it: the oracle judges a message the way the client does.
const ASKED = encodeQuestion(NAME, 'A', 1232);
const TRUTH = ['10.70.0.1', '10.70.0.2', '10.70.0.3'];
const TIMEOUT = 200;
const RUNS = 10_000;

// One fuzzed message for each query: random bytes, or the true answer mutated (bytes
// overwritten, cut, extended), with the query's ID so it gets past the cheap checks.
const fuzzed = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 2, maxLength: 400 }) }),
  fc.record({
    kind: fc.constant('mutated' as const),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 6 }),
    // Owner names as pointers to the question (as real servers send them), or spelled out.
    compressed: fc.boolean(),
  }),
);

describe(`${RUNS.toLocaleString('en')} random and mutated responses through resolvePeers (fast-check)`, () => {
  let server: ScriptedServer;
  let client: DnsClient;
  let make: ((query: ReturnType<typeof decode>) => Buffer) | undefined;
  let lastFuzzed: { bytes: Buffer; id: number } | undefined;

  beforeAll(async () => {
    server = await startScriptedServer();
    const truth = (query: ReturnType<typeof decode>) =>
      responseTo(query, { answers: TRUTH.map((ip) => aRecord(NAME, ip)) });
    // Each query gets the fuzzed message first, then the true answer: a client that drops
    // what fails validation ends with the truth, quickly.
    server.onUdp((ex) => {
      const bytes = make ? make(ex.query) : truth(ex.query);
      lastFuzzed = { bytes, id: ex.query.id ?? 0 };
      ex.send(bytes);
      setImmediate(() => ex.send(truth(ex.query)));
    });
    server.onTcp((ex) => ex.send(truth(ex.query)));
    client = new DnsClient({ nameservers: [server.nameserver], timeout: TIMEOUT, attempts: 1, search: [], ndots: 1 });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('no exception escapes, no query outlives its timeout, no peer set comes from a packet that failed validation', async () => {
    let fromFuzzed = 0;
    let failures = 0;
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(fuzzed, async (spec) => {
        make = (query) => {
          const id = query.id ?? 0;
          if (spec.kind === 'random') {
            const bytes = Buffer.from(spec.bytes);
            bytes.writeUInt16BE(id, 0);
            return bytes;
          }
          const answers = TRUTH.map((ip) => aRecord(NAME, ip));
          const base = spec.compressed ? compressedResponseTo(query, answers) : responseTo(query, { answers });
          const bytes = Buffer.concat([base, Buffer.from(spec.tail)]);
          for (const [at, value] of spec.edits) bytes[2 + (at % (bytes.length - 2))] = value;
          return spec.cut === undefined ? bytes : bytes.subarray(0, Math.max(2, spec.cut % (bytes.length + 1)));
        };
        const started = performance.now();
        const outcome = await resolvePeers({ name: NAME, client, port: 80, family: 4 }).then(
          (peers) => ({ peers }),
          (error: unknown) => ({ error }),
        );
        const elapsed = performance.now() - started;
        slowest = Math.max(slowest, elapsed);
        // UDP, then at most one TCP retry: two timeouts at the very most.
        expect(elapsed).toBeLessThan(2 * TIMEOUT + 100);
        if ('error' in outcome) {
          failures++;
          expect(outcome.error).toBeInstanceOf(DnsError);
          return;
        }
        const { bytes, id } = lastFuzzed ?? { bytes: Buffer.alloc(0), id: -1 };
        const verdict = bytes.length >= 2 && bytes.readUInt16BE(0) === id ? judge(bytes, ASKED) : { kind: 'foreign' };
        const addresses = outcome.peers.map((peer) => peer.address).sort();
        if (verdict.kind === 'answer') {
          // The fuzzed message passed every check: it may be what was used. Still only
          // well-formed peers.
          fromFuzzed++;
          for (const address of addresses) expect(isIPv4(address)).toBe(true);
        } else {
          // It failed validation (or was truncated, or not ours): the peers are exactly the truth.
          expect(addresses).toEqual(TRUTH);
        }
      }),
      { numRuns: RUNS },
    );
    console.info(
      `fuzz: ${RUNS} runs, ${fromFuzzed} fuzzed messages passed validation, ${failures} lookups failed (DnsError), slowest ${Math.round(slowest)} ms`,
    );
  }, 300_000);
});
