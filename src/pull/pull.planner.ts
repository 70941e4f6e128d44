import { windowKey } from '../domain/pull/windows';
import type { ProfileSource } from '../sources';
import type { NewWorkItem } from '../jobs/work-queue.repository';
import type { PullPayload } from './pull.handler';
import { type TimeWindow } from '../domain/time-window';

export interface PlannedItems {
  readonly items: NewWorkItem[];
  /** One line per (source, window) whose services could not be listed; the other sources go on. */
  readonly errors: string[];
}

/**
 * One `pull` item per (source, service, window). Sources are asked concurrently, so a slow or dead one
 * delays only its own items; each source's windows are asked one after another to spare the profiler.
 */
export async function planPullItems(
  sources: readonly ProfileSource[],
  windows: readonly TimeWindow[],
  signal: AbortSignal,
): Promise<PlannedItems> {
  const perSource = await Promise.all(sources.map((source) => planSource(source, windows, signal)));
  return { items: perSource.flatMap((p) => p.items), errors: perSource.flatMap((p) => p.errors) };
}

async function planSource(
  source: ProfileSource,
  windows: readonly TimeWindow[],
  signal: AbortSignal,
): Promise<PlannedItems> {
  const items: NewWorkItem[] = [];
  const errors: string[] = [];
  for (const window of windows) {
    if (signal.aborted) break;
    try {
      for (const service of await source.listServices(window, signal))
        items.push(pullItem(source.name, service, window));
    } catch (error) {
      errors.push(
        `pull ${source.name} ${windowKey(window)}: cannot list services: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return { items, errors };
}

/** The item that pulls `service` from `source` for `window`; its key makes a window idempotent per source. */
export function pullItem(source: string, service: string, window: TimeWindow): NewWorkItem {
  const payload: PullPayload = { source };
  return {
    job: 'pull',
    itemKey: `${source}/${service}@${windowKey(window)}`,
    windowStart: window.start,
    windowEnd: window.end,
    service,
    payload: { ...payload },
  };
}
