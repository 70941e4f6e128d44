import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/jobs/jobs.service';

describe('the polling sleep of a job run', () => {
  it('leaves no abort listener behind, however many polls share one signal', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 30; i++) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('returns at once when the signal aborts, and removes its timer', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const slept = sleep(60_000, controller.signal);
    controller.abort();
    await slept;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
