import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { queryRows } from '../database/query-rows';

export type DeliveryStatus = 'sending' | 'sent' | 'refused' | 'failed';

export interface Delivery {
  readonly week: string;
  readonly recipient: string;
  readonly kind: 'team' | 'org';
  readonly team: string | null;
  readonly address: string;
  readonly messageId: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastError: string | null;
}

/** The `report_deliveries` table: what was sent to whom for which week. */
@Injectable()
export class ReportDeliveryRepository {
  constructor(private readonly db: DataSource) {}

  async find(week: string, recipient: string): Promise<Delivery | null> {
    const [row] = await queryRows<Delivery>(
      this.db,
      `SELECT week, recipient, kind, team, address, message_id AS "messageId", status, attempts, last_error AS "lastError"
         FROM report_deliveries WHERE week = $1 AND recipient = $2`,
      [week, recipient],
    );
    return row ?? null;
  }

  /** Records an attempt about to be made (committed before the SMTP transaction starts). */
  async markSending(d: Omit<Delivery, 'status' | 'attempts' | 'lastError'>): Promise<void> {
    await this.db.query(
      `INSERT INTO report_deliveries (week, recipient, kind, team, address, message_id, status, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, 'sending', 1)
       ON CONFLICT (week, recipient) DO UPDATE SET status = 'sending', attempts = report_deliveries.attempts + 1, updated_at = now()`,
      [d.week, d.recipient, d.kind, d.team, d.address, d.messageId],
    );
  }

  /** The outcome of the attempt, in the transaction that completes the work item. */
  async markOutcome(
    tx: EntityManager,
    week: string,
    recipient: string,
    status: Exclude<DeliveryStatus, 'sending'>,
    detail: string | null,
  ): Promise<void> {
    await tx.query(
      `UPDATE report_deliveries
          SET status = $3, updated_at = now(),
              sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END,
              response = CASE WHEN $3 = 'sent' THEN $4 ELSE response END,
              last_error = CASE WHEN $3 = 'sent' THEN NULL ELSE $4 END
        WHERE week = $1 AND recipient = $2`,
      [week, recipient, status, detail],
    );
  }

  /** Deliveries of a week that did not arrive (refused or failed), for the run's summary and the org email's footer. */
  async undelivered(week: string): Promise<Delivery[]> {
    return queryRows<Delivery>(
      this.db,
      `SELECT week, recipient, kind, team, address, message_id AS "messageId", status, attempts, last_error AS "lastError"
         FROM report_deliveries WHERE week = $1 AND status IN ('refused', 'failed') ORDER BY recipient`,
      [week],
    );
  }
}
