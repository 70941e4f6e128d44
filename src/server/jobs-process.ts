import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Logger } from 'pino';

/** How long a stopping jobs process may take to finish its items before it is killed. */
const STOP_TIMEOUT_MS = 30_000;
/** Restart delays after the jobs process died unexpectedly: 1 s, 2 s, 4 s ... up to a minute. */
const RESTART_MAX_MS = 60_000;

/**
 * The scheduled jobs of `flamebill serve` in a child process (`flamebill jobs`), so that attribution, pulls and
 * retention never hold up the event loop that answers HTTP and pushes. The child shares the database (the embedded
 * server's URL is handed to it) and is restarted with backoff if it dies; it exits by itself when this process goes
 * away (its IPC channel closes), even after a `kill -9`.
 */
export class JobsProcess {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private lastExit: string | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const main = path.resolve(__dirname, '..', 'cli', 'main.js');
    const child = fork(main, ['jobs'], {
      env: { ...process.env, DATABASE_URL: this.databaseUrl, FLAMEBILL_JOBS_OF: String(process.pid) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (message: unknown) => {
      if (message === 'ready') this.restarts = 0;
    });
    child.on('exit', (code, signal) => {
      this.child = null;
      if (this.stopping) return;
      this.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const delay = Math.min(RESTART_MAX_MS, 1000 * 2 ** this.restarts++);
      this.logger.error(`the jobs process ${this.lastExit}; restarting it in ${delay / 1000} s`);
      this.restartTimer = setTimeout(() => this.start(), delay);
      this.restartTimer.unref();
    });
  }

  /** `up` while the child runs; `degraded` (jobs paused, HTTP unaffected) while it is being restarted. */
  status(): { status: 'up' | 'degraded'; pid?: number; message?: string } {
    if (this.child?.pid !== undefined && this.child.exitCode === null) return { status: 'up', pid: this.child.pid };
    return {
      status: 'degraded',
      message: `the jobs process ${this.lastExit ?? 'is starting'}; scheduled jobs wait for its restart`,
    };
  }

  /** Asks the child to finish (SIGTERM), then kills it if it takes longer than STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
