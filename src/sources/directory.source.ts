import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { isIncompleteName, parseDropFileName, type DropFileName } from './drop-file-name';
import { assertValidWindow, type FetchedProfile, type ProfileSource, type SourceLogger } from './profile-source';
import type { DirectorySourceSettings } from './source-settings';
import { type TimeWindow } from '../domain/time-window';

/** What the directory source needs from its surroundings. */
export interface DirectorySourceDeps {
  readonly logger: SourceLogger;
  /** The clock, for the "not modified for minAgeSeconds" rule. */
  readonly now: () => Date;
}

/** A file whose name matched the pattern. */
interface DropFile extends DropFileName {
  readonly relativePath: string;
  readonly absolutePath: string;
}

/**
 * A folder of profile files, one per service and window (`<service>/<window start>.pb.gz` by default,
 * or any pattern with `service` and `start` groups), as fleets produce by syncing a bucket.
 *
 * A file is read only when it is complete: its name is not a temporary one (dot files, `.tmp`, `.part`,
 * …), it has not been modified for `minAgeSeconds`, it is not empty, and its size and modification time
 * are the same after reading as before (a writer that resumed meanwhile makes it skip the file this time).
 * A file belongs to the window that contains its start; it covers [start, start + windowMinutes).
 */
export class DirectorySource implements ProfileSource {
  readonly kind = 'directory' as const;
  readonly name: string;
  private readonly pattern: RegExp;

  constructor(
    private readonly settings: DirectorySourceSettings,
    /** Absolute path of the drop folder. */
    private readonly root: string,
    private readonly deps: DirectorySourceDeps,
  ) {
    this.name = settings.name;
    this.pattern = new RegExp(settings.pattern);
  }

  async listServices(window: TimeWindow, signal: AbortSignal): Promise<string[]> {
    assertValidWindow(window);
    const services = new Set<string>();
    for (const file of await this.filesIn(window, signal)) {
      if (!services.has(file.service) && (await this.completeSize(file)) !== null) services.add(file.service);
    }
    return [...services].sort();
  }

  async fetchProfiles(service: string, window: TimeWindow, signal: AbortSignal): Promise<FetchedProfile[]> {
    assertValidWindow(window);
    const profiles: FetchedProfile[] = [];
    for (const file of await this.filesIn(window, signal)) {
      if (file.service !== service) continue;
      signal.throwIfAborted();
      const bytes = await this.readComplete(file, signal);
      if (bytes !== null) profiles.push(this.toProfile(file, bytes));
    }
    return profiles;
  }

  /**
   * The windows that complete files cover, oldest first, without duplicates. Lets a caller backfill a
   * drop folder whose time range it does not know (the shipped demo profiles at first start).
   */
  async coveredWindows(signal: AbortSignal): Promise<TimeWindow[]> {
    const starts = new Set<number>();
    for (const file of await this.scan(signal)) {
      if (!starts.has(file.start.getTime()) && (await this.completeSize(file)) !== null)
        starts.add(file.start.getTime());
    }
    const windowMs = this.settings.windowMinutes * 60_000;
    return [...starts]
      .sort((a, b) => a - b)
      .map((start) => ({ start: new Date(start), end: new Date(start + windowMs) }));
  }

  /** Files whose name matches and whose start lies in the window, oldest first. */
  private async filesIn(window: TimeWindow, signal: AbortSignal): Promise<DropFile[]> {
    const from = window.start.getTime();
    const to = window.end.getTime();
    const files = (await this.scan(signal)).filter((file) => file.start.getTime() >= from && file.start.getTime() < to);
    return files.sort((a, b) => a.start.getTime() - b.start.getTime() || a.relativePath.localeCompare(b.relativePath));
  }

  private async scan(signal: AbortSignal): Promise<DropFile[]> {
    let entries: string[];
    try {
      entries = await readdir(this.root, { recursive: true });
    } catch (error) {
      throw new Error(`${this.name}: cannot read the drop folder ${this.root}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    signal.throwIfAborted();
    const files: DropFile[] = [];
    for (const entry of entries) {
      const relativePath = sep === '/' ? entry : entry.split(sep).join('/');
      if (isIncompleteName(relativePath)) continue;
      const parsed = parseDropFileName(relativePath, this.pattern);
      if (parsed !== null) files.push({ ...parsed, relativePath, absolutePath: join(this.root, entry) });
    }
    return files;
  }

  /** The file's size when it looks complete by its metadata, else null (with the reason logged at debug). */
  private async completeSize(file: DropFile): Promise<{ size: number; mtimeMs: number } | null> {
    let info: Stats;
    try {
      info = await stat(file.absolutePath);
    } catch (error) {
      // Removed or renamed since the folder was listed: the syncing tool moved it; not an error.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const ageMs = this.deps.now().getTime() - info.mtimeMs;
    let reason: string | null = null;
    if (!info.isFile()) reason = 'not a regular file';
    else if (info.size === 0) reason = 'empty';
    else if (ageMs < this.settings.minAgeSeconds * 1000)
      reason = `modified ${Math.round(ageMs / 1000)} s ago, still being written?`;
    else if (info.size > this.settings.maxFileBytes) reason = `larger than maxFileBytes (${info.size} bytes)`;
    if (reason === null) return { size: info.size, mtimeMs: info.mtimeMs };
    const log = reason.startsWith('larger') ? this.deps.logger.warn : this.deps.logger.debug;
    log.call(this.deps.logger, { source: this.name, file: file.relativePath }, `skipping drop file: ${reason}`);
    return null;
  }

  /** The file's bytes if it is complete and did not change while being read. */
  private async readComplete(file: DropFile, signal: AbortSignal): Promise<Uint8Array | null> {
    const before = await this.completeSize(file);
    if (before === null) return null;
    const bytes = await readFile(file.absolutePath, { signal });
    const after = await stat(file.absolutePath);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || bytes.byteLength !== before.size) {
      this.deps.logger.warn(
        { source: this.name, file: file.relativePath },
        'drop file changed while being read, skipping it this time',
      );
      return null;
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private toProfile(file: DropFile, bytes: Uint8Array): FetchedProfile {
    const end = new Date(file.start.getTime() + this.settings.windowMinutes * 60_000);
    return {
      bytes,
      profileType: this.settings.profileType,
      seriesLabels: { ...file.labels, service_name: file.service },
      range: { start: file.start, end },
      origin: file.absolutePath,
    };
  }
}
