import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ApiKeyRow } from '../auth/api-key.repository';
import { AuditRepository, type AuditRow } from './audit.repository';

/** What the guard leaves on the request for the audit row (the key, once verified). */
export interface AuthenticatedRequest extends Request {
  apiKey?: ApiKeyRow;
}

const MAX_QUERY_CHARS = 2_000;

/** Records export and admin calls once they are answered (or refused), with the status sent. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(private readonly audit: AuditRepository) {}

  /** Writes the audit row when `res` finishes; a failed write is logged, never the caller's error. */
  track(req: AuthenticatedRequest, res: Response, scope: string): void {
    res.once('finish', () => {
      const q = req.originalUrl.indexOf('?');
      const entry = {
        keyId: req.apiKey?.id ?? null,
        keyName: req.apiKey?.name ?? null,
        scope,
        method: req.method,
        path: req.path,
        query: q < 0 ? '' : req.originalUrl.slice(q + 1, q + 1 + MAX_QUERY_CHARS),
        status: res.statusCode,
        requestId: (req as { id?: unknown }).id === undefined ? null : String((req as { id?: unknown }).id),
      };
      this.audit
        .insert(entry)
        .catch((error: unknown) =>
          this.logger.error(
            `audit row not written for ${req.method} ${req.path}: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
    });
  }

  list(limit: number, beforeId: string | null): Promise<AuditRow[]> {
    return this.audit.list(limit, beforeId);
  }
}
