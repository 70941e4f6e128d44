import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { JOB_META, type JobMeta } from './job.decorator';
import type { JobRunner } from './job-runner';

export interface RegisteredJob {
  readonly meta: JobMeta;
  readonly runner: JobRunner;
}

/**
 * The jobs of this application: every provider declared with `@Job`, in whichever module owns it. The scheduler,
 * `flamebill run` and the settings check read it; nothing here names a job.
 */
@Injectable()
export class JobRegistry implements OnModuleInit {
  private readonly jobs = new Map<string, RegisteredJob>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const meta = wrapper.metatype
        ? (Reflect.getMetadata(JOB_META, wrapper.metatype) as JobMeta | undefined)
        : undefined;
      if (!meta || !wrapper.instance) continue;
      const existing = this.jobs.get(meta.name);
      if (existing && existing.runner !== wrapper.instance) throw new Error(`two providers run job "${meta.name}"`);
      this.jobs.set(meta.name, { meta, runner: wrapper.instance as JobRunner });
    }
  }

  /** @throws Error naming the registered jobs when `name` is not one of them. */
  get(name: string): RegisteredJob {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job named "${name}"; jobs: ${this.names().join(', ')}`);
    return job;
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  list(): RegisteredJob[] {
    return this.names().map((name) => this.jobs.get(name)!);
  }

  names(): string[] {
    return [...this.jobs.keys()].sort();
  }
}
