import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortListeners, listenAbort, shareAborts, unlistenAbort } from '../../src/wire/abort.js';

describe('abort listeners', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('on a shared signal, any number of listeners sit under one, each called once, in order', () => {
    const controller = new AbortController();
    shareAborts(controller.signal);
    shareAborts(controller.signal);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const called: number[] = [];
      const listeners = Array.from({ length: 1000 }, (_, i) => ({ handleEvent: () => void called.push(i) }));
      for (const listener of listeners) listenAbort(controller.signal, listener);
      expect(abortListeners(controller.signal)).toBe(1000);
      for (const listener of listeners.filter((_, i) => i % 2 === 1)) unlistenAbort(controller.signal, listener);
      expect(abortListeners(controller.signal)).toBe(500);
      controller.abort();
      controller.abort();
      expect(called).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i));
      expect(abortListeners(controller.signal)).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('on any other signal, listeners are the signal’s own', () => {
    const controller = new AbortController();
    let calls = 0;
    const listener = { handleEvent: () => void calls++ };
    listenAbort(controller.signal, listener);
    listenAbort(controller.signal, { handleEvent: () => void calls++ });
    expect(abortListeners(controller.signal)).toBe(2);
    unlistenAbort(controller.signal, listener);
    expect(abortListeners(controller.signal)).toBe(1);
    controller.abort();
    expect(calls).toBe(1);
    // An aborted signal is never shared: a listener added now is not called, as EventTarget does.
    shareAborts(controller.signal);
    listenAbort(controller.signal, { handleEvent: () => void calls++ });
    expect(calls).toBe(1);
  });

  it('a throwing listener costs the others nothing; its error is thrown again on its own', () => {
    const later: (() => void)[] = [];
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => void later.push(task));
    const controller = new AbortController();
    shareAborts(controller.signal);
    const called: string[] = [];
    listenAbort(controller.signal, { handleEvent: () => void called.push('first') });
    listenAbort(controller.signal, {
      handleEvent: () => {
        throw new Error('listener broke');
      },
    });
    listenAbort(controller.signal, { handleEvent: () => void called.push('third') });
    controller.abort();
    expect(called).toEqual(['first', 'third']);
    expect(later).toHaveLength(1);
    expect(() => later[0]?.()).toThrow('listener broke');
  });
});
