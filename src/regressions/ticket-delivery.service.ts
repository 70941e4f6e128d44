import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CatalogRepository } from '../catalog/catalog.repository';
import { InjectSettings } from '../config/settings.module';
import type { Settings } from '../config/settings.schema';
import { inTransaction } from '../database/transactions';
import { fingerprintMarker, routeOfService, ticketContent, type Route, type TicketFinding } from '../domain/regression';
import type { TrackerName } from '../domain/regression/regression-settings';
import { ReadinessRegistry } from '../health/readiness.registry';
import { RegressionRepository, type OutboxRow, type TicketRecord } from './regression.repository';
import { createTracker } from './trackers/tracker.factory';
import { TicketFlameGraphService } from './ticket-flame-graph.service';
import {
  TrackerError,
  type RemoteTicket,
  type TicketAttachment,
  type Tracker,
  type UploadedFile,
} from './trackers/tracker';

export interface DeliveryCounts {
  sent: number;
  created: number;
  /** Tickets found by their fingerprint marker (filed by a delivery that died before recording it). */
  adopted: number;
  failed: number;
  wouldSend: number;
  pending: number;
}

/** How delivery reaches trackers; tests pass their own (e.g. a clock or an adapter factory). */
export interface DeliveryOptions {
  readonly dryRun?: boolean;
  readonly now?: () => Date;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends the outbox (transactional outbox): each row is locked (`FOR UPDATE SKIP LOCKED`) for the time of its
 * delivery, and marked sent, with the tracker's id and URL recorded, in the same transaction. A process killed
 * between the tracker's answer and the commit leaves the row unsent and no record; the next delivery then finds the
 * ticket by its fingerprint marker before creating one, so a finding is one ticket whatever happens.
 */
@Injectable()
export class TicketDeliveryService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('TicketDelivery');
  private readonly trackers = new Map<string, Tracker>();

  constructor(
    private readonly db: DataSource,
    private readonly repository: RegressionRepository,
    private readonly catalog: CatalogRepository,
    private readonly graphs: TicketFlameGraphService,
    private readonly readiness: ReadinessRegistry,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  onModuleInit(): void {
    // From the outbox, so every replica shows what any of them met; the database check reports the database itself.
    this.readiness.register('tickets', async () => {
      const state = await this.repository.outboxState().catch(() => null);
      if (!state) return { status: 'up' };
      return state.lastError
        ? { status: 'degraded', pending: state.pending, lastError: state.lastError }
        : { status: 'up', pending: state.pending };
    });
  }

  onModuleDestroy(): void {
    this.readiness.unregister('tickets');
  }

  /** Delivers every due row; returns what it did and the tracker errors (their own messages). */
  async deliver(options: DeliveryOptions = {}): Promise<{ counts: DeliveryCounts; errors: string[] }> {
    const now = options.now ?? (() => new Date());
    const dryRun = options.dryRun === true || this.settings.regressions.dryRun;
    const counts: DeliveryCounts = { sent: 0, created: 0, adopted: 0, failed: 0, wouldSend: 0, pending: 0 };
    const errors: string[] = [];
    for (;;) {
      const done = await inTransaction(this.db, async (tx) => {
        const row = await this.repository.claimNext(tx, now());
        if (!row) return false;
        try {
          const route = await this.deliverRow(tx, row, dryRun, counts);
          await this.repository.markSent(tx, row.id, dryRun, dryRun ? route : null);
          if (!dryRun) counts.sent++;
        } catch (err: unknown) {
          if (!(err instanceof TrackerError)) throw err;
          const delay = Math.min(
            this.settings.regressions.delivery.maxDelaySeconds,
            60 * 2 ** Math.min(row.attempts, 16),
          );
          await this.repository.markFailed(tx, row.id, err.message, new Date(now().getTime() + delay * 1000));
          counts.failed++;
          errors.push(err.message);
          this.logger.error(
            `ticket for finding ${row.fingerprint} (${row.event}) not delivered, retried in ${delay} s: ${err.message}`,
          );
        }
        return true;
      });
      if (!done) break;
    }
    counts.pending = (await this.repository.outboxState()).pending;
    return { counts, errors };
  }

  /** @returns where the row went (or, in dry run, would have gone). */
  private async deliverRow(
    tx: EntityManager,
    row: OutboxRow,
    dryRun: boolean,
    counts: DeliveryCounts,
  ): Promise<{ tracker: string; project: string }> {
    const finding = row.payload as unknown as TicketFinding;
    const known = await this.repository.ticketOf(tx, row.fingerprint);
    // A dry run shows where a ticket would go even before that tracker is configured (the first start's demo).
    const route = known
      ? { tracker: known.tracker, project: known.project, from: 'ticket', annotation: null }
      : await this.route(finding.service, !dryRun);
    if (dryRun) {
      const content = ticketContent(row.event, finding, {
        currency: this.settings.currency,
        marker: 'last-line',
        ...this.dashboard(),
      });
      const unconfigured = this.settings.regressions.trackers[route.tracker as TrackerName] ? '' : ' (not configured)';
      this.logger.log(
        `dry run: would send ${row.event} of ${row.fingerprint} to ${route.tracker}${unconfigured}/${route.project}${known ? ` (ticket ${known.remoteId})` : ''}: ${content.title}`,
      );
      counts.wouldSend++;
      return route;
    }
    await this.send(tx, row, finding, route, known, counts);
    return route;
  }

  private async send(
    tx: EntityManager,
    row: OutboxRow,
    finding: TicketFinding,
    route: { tracker: string; project: string },
    known: TicketRecord | null,
    counts: DeliveryCounts,
  ): Promise<void> {
    const tracker = this.tracker(route.tracker);
    const options = {
      currency: this.settings.currency,
      marker: tracker.marker,
      escape: tracker.escape ?? 'entities',
      ...this.dashboard(),
    } as const;
    const content = ticketContent(row.event, finding, options);
    let ticket: RemoteTicket | null = known ? { id: known.remoteId, url: known.url } : null;
    if (!ticket) {
      ticket = await this.withRetries(() => tracker.findByMarker(route.project, fingerprintMarker(row.fingerprint)));
      if (ticket) counts.adopted++;
      else if (row.event === 'resolved')
        return; // never filed (e.g. dry run then): nothing to close
      else {
        const file = tracker.attachments === 'none' ? null : await this.graphs.svgOf(finding);
        const uploaded = file && tracker.upload ? await this.upload(tracker, route.project, file) : null;
        const attached = file !== null && (tracker.attachments !== 'upload' || uploaded !== null);
        const filed = attached
          ? ticketContent(row.event, finding, {
              ...options,
              graph: { filename: file.filename, ...(uploaded?.markdown ? { embed: uploaded.markdown } : {}) },
            })
          : content;
        const made = await this.createOnce(tracker, route.project, fingerprintMarker(row.fingerprint), () =>
          tracker.create(route.project, filed.title, filed.body, file ? { attachment: file, uploaded } : undefined),
        );
        ticket = made.ticket;
        counts[made.adopted ? 'adopted' : 'created']++;
        await this.repository.recordTicket(tx, {
          fingerprint: row.fingerprint,
          tracker: route.tracker,
          project: route.project,
          remoteId: ticket.id,
          url: ticket.url,
        });
        this.logger.log(`filed ${ticket.url} for ${finding.service} ${finding.function} (${row.fingerprint})`);
        if (file && tracker.attach) await this.attach(tracker, ticket, file);
        return;
      }
      await this.repository.recordTicket(tx, {
        fingerprint: row.fingerprint,
        tracker: route.tracker,
        project: route.project,
        remoteId: ticket.id,
        url: ticket.url,
      });
    }
    // A ticket filed by a delivery that died before its graph was attached (trackers that attach after creating).
    if (row.event === 'opened' && tracker.attach) {
      const file = await this.graphs.svgOf(finding);
      if (file) await this.attach(tracker, ticket, file);
    }
    const t = ticket;
    switch (row.event) {
      case 'opened':
        return; // already filed: the record or the marker says so
      case 'grew':
        return this.withRetries(() => tracker.comment(t, content.body));
      case 'reopened':
        return this.withRetries(() => tracker.reopen(t, content.body));
      case 'resolved':
        return this.withRetries(() =>
          this.settings.regressions.onResolved === 'close'
            ? tracker.close(t, content.body)
            : tracker.comment(t, content.body),
        );
    }
  }

  /**
   * A creation retried like any request, except that before each retry the tracker is searched for the marker again: a
   * creation whose answer was lost (a gateway's 502, a timeout) may have filed the ticket, which is then adopted.
   */
  private async createOnce(
    tracker: Tracker,
    project: string,
    marker: string,
    create: () => Promise<RemoteTicket>,
  ): Promise<{ ticket: RemoteTicket; adopted: boolean }> {
    const { attempts, backoffMs } = this.settings.regressions.delivery;
    for (let i = 1; ; i++) {
      try {
        return { ticket: await create(), adopted: false };
      } catch (err: unknown) {
        if (!(err instanceof TrackerError) || !err.retryable || i >= attempts) throw err;
        await sleep(backoffMs * 2 ** (i - 1));
        const found = await this.withRetries(() => tracker.findByMarker(project, marker));
        if (found) return { ticket: found, adopted: true };
      }
    }
  }

  /**
   * Uploads the graph ahead of the creation; a refusal (4xx: too large, not allowed) files the ticket without it,
   * while a tracker that is down fails the row, which is tried again later (nothing was created yet).
   */
  private async upload(tracker: Tracker, project: string, file: TicketAttachment): Promise<UploadedFile | null> {
    try {
      return await this.withRetries(() => tracker.upload!(project, file));
    } catch (err: unknown) {
      if (!(err instanceof TrackerError) || err.retryable) throw err;
      this.logger.warn(`${tracker.name} refused the flame graph ${file.filename}; filing without it: ${err.message}`);
      return null;
    }
  }

  /** Attaches the graph to a filed ticket (idempotent by file name); a refusal is logged, a failure retried later. */
  private async attach(tracker: Tracker, ticket: RemoteTicket, file: TicketAttachment): Promise<void> {
    try {
      await this.withRetries(() => tracker.attach!(ticket, file));
    } catch (err: unknown) {
      if (!(err instanceof TrackerError) || err.retryable) throw err;
      this.logger.warn(`${tracker.name} refused the flame graph ${file.filename} on ${ticket.url}: ${err.message}`);
    }
  }

  private dashboard(): { dashboardUrl?: string } {
    const url = this.settings.regressions.dashboardUrl;
    return url ? { dashboardUrl: url } : {};
  }

  /**
   * Where a service's ticket goes (Component, owner Group, parent Groups nearest first, default); a route to an
   * unconfigured tracker is a catalog problem, named with the file and line of the entity carrying the annotation.
   */
  private async route(service: string, requireConfigured: boolean): Promise<Route> {
    const good = await this.catalog.currentGood();
    const route = routeOfService(good?.catalog ?? null, service, this.settings.regressions.default);
    if (!route)
      throw new TrackerError(
        `no route for service ${service}: no routing annotation on its Component or owner Groups and no regressions.default`,
        null,
        false,
      );
    if (requireConfigured && !this.settings.regressions.trackers[route.tracker]) {
      const where = route.position
        ? ` (catalog problem: ${route.position.file}:${route.position.line}, annotation ${route.annotation}${route.from === 'component' ? '' : ` of ${route.from.slice('group:'.length)}`})`
        : ' (regressions.default)';
      throw new TrackerError(
        `service ${service} routes to ${route.tracker}/${route.project}, but regressions.trackers.${route.tracker} is not configured${where}`,
        null,
        false,
      );
    }
    return route;
  }

  private tracker(name: string): Tracker {
    let t = this.trackers.get(name);
    if (!t) this.trackers.set(name, (t = createTracker(name as never, this.settings.regressions)));
    return t;
  }

  /** Tries a request up to `delivery.attempts` times while the tracker answers 5xx/429 or cannot be reached. */
  private async withRetries<T>(request: () => Promise<T>): Promise<T> {
    const { attempts, backoffMs } = this.settings.regressions.delivery;
    for (let i = 1; ; i++) {
      try {
        return await request();
      } catch (err: unknown) {
        if (!(err instanceof TrackerError) || !err.retryable || i >= attempts) throw err;
        await sleep(backoffMs * 2 ** (i - 1));
      }
    }
  }
}
