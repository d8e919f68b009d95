import { isIPv4 } from 'node:net';
import type { DecodedPacket } from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient } from '../../src/wire/client.js';
import { DnsError } from '../../src/wire/errors.js';
import { aRecord, responseTo, type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';

const NAME = 'fuzz.default.svc.cluster.local';
const TIMEOUT = 30;

// What the server sends back for one query: raw random bytes, or a valid answer with
// some bytes overwritten, cut short or extended (its ID kept, so it gets past the cheap
// checks and into the decoder).
const reply = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 600 }) }),
  fc.record({
    kind: fc.constant('mutated' as const),
    count: fc.integer({ min: 1, max: 6 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 8 }),
    keepId: fc.boolean(),
  }),
);

describe('DnsClient under random and mutated responses (fast-check)', () => {
  let server: ScriptedServer;
  let client: DnsClient;
  let next: ((query: DecodedPacket) => Buffer) | undefined;

  beforeAll(async () => {
    server = await startScriptedServer();
    server.onUdp((ex) => {
      if (next) ex.send(next(ex.query));
    });
    server.onTcp((ex) => {
      if (next) ex.send(next(ex.query));
    });
    client = new DnsClient({ nameservers: [server.nameserver], timeout: TIMEOUT, attempts: 1, search: [], ndots: 1 });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('never throws anything but a DnsError, settles within the timeout, and only returns valid records', async () => {
    await fc.assert(
      fc.asyncProperty(reply, async (spec) => {
        next = (query) => {
          if (spec.kind === 'random') {
            const bytes = Buffer.from(spec.bytes);
            if (bytes.length >= 2) bytes.writeUInt16BE(query.id ?? 0, 0);
            return bytes;
          }
          const answers = Array.from({ length: spec.count }, (_, i) => aRecord(NAME, `10.0.0.${i + 1}`));
          const bytes = Buffer.concat([responseTo(query, { answers }), Buffer.from(spec.tail)]);
          for (const [at, value] of spec.edits) {
            const offset = spec.keepId ? 2 + (at % (bytes.length - 2)) : at % bytes.length;
            bytes[offset] = value;
          }
          return spec.cut === undefined ? bytes : bytes.subarray(0, spec.cut % (bytes.length + 1));
        };
        const started = performance.now();
        const outcome = await client.query(NAME, 'A').then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
        const elapsed = performance.now() - started;
        // Two attempts at most in time: UDP, then a TCP fallback, each bounded by TIMEOUT.
        expect(elapsed).toBeLessThan(2 * TIMEOUT + 200);
        if ('error' in outcome) {
          expect(outcome.error).toBeInstanceOf(DnsError);
        } else {
          for (const record of outcome.result.answers) {
            expect(record.type).toBe('A');
            expect(isIPv4(String('data' in record ? record.data : ''))).toBe(true);
          }
        }
      }),
      { numRuns: 250 },
    );
  });
});
