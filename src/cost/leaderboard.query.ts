import { z } from 'zod';

export const BOARDS = ['teams', 'services', 'functions', 'cross-service-functions'] as const;
export type Board = (typeof BOARDS)[number];

/** A validated leaderboard request. */
export interface LeaderboardQuery {
  readonly board: Board;
  readonly from: Date;
  readonly to: Date;
  readonly limit: number;
  readonly by: 'self' | 'inclusive';
}

/** A request parameter that is wrong; the API answers 400 naming it. */
export class LeaderboardQueryError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`${param}: ${message}`);
    this.name = 'LeaderboardQueryError';
  }
}

const MAX_PERIOD_DAYS = 400;
const DAY_MS = 86_400_000;
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

const instant = (param: string) =>
  z
    .string({
      error: `${param} is required (an ISO 8601 date or date-time with a zone, e.g. 2026-11-21 or 2026-11-21T06:00:00Z)`,
    })
    .refine((s) => INSTANT.test(s) && !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)), {
      message: `${param} must be an ISO 8601 date or date-time with a zone, e.g. 2026-11-21 or 2026-11-21T06:00:00Z`,
    })
    .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s));

const querySchema = z.object({
  from: instant('from'),
  to: instant('to'),
  limit: z
    .string()
    .regex(/^\d+$/, 'limit must be a whole number from 1 to 1000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, 'limit must be a whole number from 1 to 1000')
    .optional(),
  by: z.enum(['self', 'inclusive'], { error: 'by must be self or inclusive' }).optional(),
});

/**
 * Validates `GET /api/v1/leaderboards/:board?from=&to=&limit=&by=`: the period [from, to) must be non-empty and at
 * most 400 days; function boards read daily facts, so their period must be whole UTC days.
 * @throws LeaderboardQueryError naming the parameter.
 */
export function parseLeaderboardQuery(board: string, raw: Readonly<Record<string, unknown>>): LeaderboardQuery {
  if (!(BOARDS as readonly string[]).includes(board))
    throw new LeaderboardQueryError('board', `unknown leaderboard "${board}"; one of ${BOARDS.join(', ')}`);
  const single = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v[v.length - 1] : v]));
  const parsed = querySchema.safeParse(single);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LeaderboardQueryError(String(issue?.path[0] ?? 'query'), issue?.message ?? 'invalid');
  }
  const { from, to, limit = 10, by = 'self' } = parsed.data;
  if (to.getTime() <= from.getTime()) throw new LeaderboardQueryError('to', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * DAY_MS)
    throw new LeaderboardQueryError('to', `the period may be at most ${MAX_PERIOD_DAYS} days`);
  if (board === 'functions' || board === 'cross-service-functions') {
    if (from.getTime() % DAY_MS !== 0)
      throw new LeaderboardQueryError(
        'from',
        'function leaderboards use daily facts: from must be a UTC midnight (e.g. 2026-11-21)',
      );
    if (to.getTime() % DAY_MS !== 0)
      throw new LeaderboardQueryError(
        'to',
        'function leaderboards use daily facts: to must be a UTC midnight (e.g. 2026-11-22)',
      );
  }
  return { board: board as Board, from, to, limit, by };
}
