import { describe, expect, it } from 'vitest';
import { runScenario } from '../../examples/replicated-kv/scenario.js';

// examples/replicated-kv: the embedded cluster DNS and every node as processes of their own.
describe('examples/replicated-kv', () => {
  it('3 pods take 100 writes, a 4th catches up, a pod restarts on a new IP, one leaves: all agree at every step', async () => {
    const steps: string[] = [];
    const timings = await runScenario((line) => steps.push(line), '127.0.6');
    console.info(steps.join('\n'));
    console.info(
      `record added to peer-joined ${timings.joined.join(', ')} ms; new IP to peer-updated ${timings.updated.join(', ')} ms; ` +
        `record removed to peer-left ${timings.left.join(', ')} ms`,
    );
    expect(steps.filter((step) => step.includes('agree'))).toHaveLength(4);
    // Each of the 3 others saw each change. TTL 2 s: a change shows within two TTLs and a poll.
    expect(timings.joined).toHaveLength(3);
    for (const ms of timings.joined) expect(ms).toBeLessThan(6000);
    for (const ms of timings.updated) expect(ms).toBeLessThan(6000);
    // leaveAfter 8 s, plus up to about two TTLs.
    expect(timings.left).toHaveLength(3);
    for (const ms of timings.left) expect(ms).toBeGreaterThanOrEqual(8000);
    for (const ms of timings.left) expect(ms).toBeLessThan(8000 + 2 * 2000 + 2000);
  }, 120_000);
});
