import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiDoc, FORMAT_QUERY } from '../api-doc.decorator';
import { AUDIT_EXAMPLE } from '../api-examples';
import { format, parseQuery, wholeNumber } from '../api-query';
import { CsvTable } from '../api-response.interceptor';
import { RequireScope } from '../auth/scopes.decorator';
import { AuditService } from './audit.service';

interface AuditJson {
  rows: Array<{
    id: string;
    at: string;
    keyName: string | null;
    scope: string;
    method: string;
    path: string;
    query: string;
    status: number;
    requestId: string | null;
  }>;
}

/** `GET /api/v1/audit`: export and admin calls, newest first (admin). */
@ApiTags('admin')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequireScope('admin')
  @ApiDoc({
    summary: 'Export and admin calls (answered or refused), newest first',
    scope: 'admin',
    csv: true,
    queries: [
      { name: 'limit', description: 'rows, 1 to 1000 (default 100)' },
      { name: 'before', description: 'nextCursor of the previous page (an audit id)' },
      FORMAT_QUERY,
    ],
    example: AUDIT_EXAMPLE,
  })
  @CsvTable((body: AuditJson) => ({
    name: 'audit',
    columns: ['id', 'at', 'key_name', 'scope', 'method', 'path', 'query', 'status', 'request_id'],
    rows: body.rows.map((r) => [r.id, r.at, r.keyName, r.scope, r.method, r.path, r.query, r.status, r.requestId]),
  }))
  async list(@Query() raw: Record<string, unknown>) {
    const q = parseQuery(raw, { limit: wholeNumber(1, 1000), before: wholeNumber(1, 999_999_999), format });
    const limit = q.limit ?? 100;
    const rows = await this.audit.list(limit, q.before === undefined ? null : String(q.before));
    return {
      rows: rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        keyName: r.keyName,
        scope: r.scope,
        method: r.method,
        path: r.path,
        query: r.query,
        status: r.status,
        requestId: r.requestId,
      })),
      nextCursor: rows.length === limit ? (rows.at(-1)?.id ?? null) : null,
    };
  }
}
