import { Presets, SingleBar } from 'cli-progress';

/** Progress of a long command: `increment()` per item done, `stop()` when finished (also on error). */
export interface Progress {
  increment(by?: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

const SILENT: Progress = { increment: () => undefined, setTotal: () => undefined, stop: () => undefined };

/**
 * A progress bar on stderr when it is a terminal, and nothing otherwise (CI logs, pipes, tests), so
 * stdout stays clean for the command's output.
 * @param label what is being counted, e.g. "profiles"
 */
export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return SILENT;
  const bar = new SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted} {detail}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { detail: '' });
  return {
    increment: (by = 1, detail) => bar.increment(by, detail === undefined ? undefined : { detail }),
    setTotal: (newTotal) => bar.setTotal(newTotal),
    stop: () => bar.stop(),
  };
}
