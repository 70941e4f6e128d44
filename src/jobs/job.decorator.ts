import type { Settings } from '../config/settings.schema';

/** What `flamebill run`, its `--help`, the scheduler and `schedules.<name>` know about a job. */
export interface JobMeta {
  /** `flamebill run <name>`, `schedules.<name>`, `job_runs.job`. Lower-case words joined by `-`. */
  readonly name: string;
  /** One line for `flamebill run --help`. */
  readonly description: string;
  /** Cron expression used when `schedules.<name>` is not set. */
  readonly defaultSchedule: string;
  /** Time zone of the schedule (IANA name); UTC when absent. A function so a job can read it from its settings. */
  readonly timeZone?: (settings: Settings) => string;
  /** Options of `flamebill run <name>` beyond --from, --to, --force, --dry-run and --json. */
  readonly options?: readonly JobOption[];
  /**
   * Its successful scheduled runs are logged at debug, not info: a job that runs every few seconds (2,880 lines a day
   * at every 30 s) would bury the other jobs' lines. Failures are still warnings; `job_runs` keeps every run.
   */
  readonly quiet?: boolean;
}

/** A command-line option of one job, e.g. `{ flags: '--week <iso-week>', description: '...' }`. */
export interface JobOption {
  readonly flags: string;
  readonly description: string;
}

export const JOB_META = Symbol('flamebill.job');

const declared = new Map<string, { meta: JobMeta; target: object }>();

/**
 * Declares a provider as the runner of a job (it implements `JobRunner`). The module that owns the job lists the
 * provider as usual; the registry finds it when the application starts. The declaration is also recorded when the
 * file is loaded, so `flamebill run --help` can list every job without starting the application.
 */
export function Job(meta: JobMeta): ClassDecorator {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(meta.name))
    throw new Error(`job name "${meta.name}" must be lower-case words joined by "-"`);
  return (target) => {
    const existing = declared.get(meta.name);
    if (existing && existing.target !== target) throw new Error(`two jobs are named "${meta.name}"`);
    declared.set(meta.name, { meta, target });
    Reflect.defineMetadata(JOB_META, meta, target);
  };
}

/** Every job declared by the files loaded so far, by name. */
export function declaredJobs(): JobMeta[] {
  return [...declared.values()].map((d) => d.meta).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
