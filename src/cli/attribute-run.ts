import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { CatalogLoader } from '../catalog/catalog.loader';
import { formatCatalogProblem } from '../domain/catalog';
import {
  attributeWindow,
  formatScaled,
  MONEY_SCALE,
  parsePriceFile,
  sumAttributions,
  type AttributionSummary,
  type PriceSettings,
  type ServiceWindowInput,
  type WindowAttribution,
} from '../domain/cost';
import { foldPprofForCost } from '../domain/ingest';
import { cpuNanoseconds, foldProfile, ProfileDecodeError, type Fold } from '../domain/profile';

export interface AttributeOptions {
  readonly profiles: string;
  readonly catalog: string;
  readonly prices: string;
  readonly json?: boolean;
}

/** What the command prints: stdout (table or JSON) and warnings for stderr. */
export interface AttributeOutput {
  readonly stdout: string;
  readonly warnings: readonly string[];
}

/** `flamebill attribute --profiles DIR --catalog DIR --prices FILE [--json]`: offline attribution, measured mode. */
/** The command without the process: reads the files, attributes every window, formats the result. */
export async function runAttribute(options: AttributeOptions): Promise<AttributeOutput> {
  const settings = await readPrices(options.prices);
  const catalog = await new CatalogLoader().load(options.catalog);
  if (!catalog.ok)
    throw new Error(
      `catalog ${options.catalog} has ${catalog.problems.length} problem(s):\n${catalog.problems.map(formatCatalogProblem).join('\n')}`,
    );
  // As Backstage does, a bad entity is skipped and the rest of the catalog used; each one is a warning.
  const warnings: string[] = catalog.problems.map((p) => `catalog entity skipped: ${formatCatalogProblem(p)}`);
  const inputs = await readProfiles(options.profiles, warnings);
  const windows = groupByWindow(inputs).map(({ startMs, endMs, services }) =>
    attributeWindow({
      window: { startMs, endMs },
      services,
      catalog: catalog.catalog,
      catalogRevision: catalog.revision,
      settings,
    }),
  );
  const summary = sumAttributions(windows);
  if (summary.defaultPriced)
    warnings.push(
      `no configured price covered some profiles: OpenCost's default $0.031611/core-hour was used (marked *)`,
    );
  if (summary.unownedServices.length > 0)
    warnings.push(`services not in the catalog (attributed to __unowned__): ${summary.unownedServices.join(', ')}`);
  return { stdout: options.json ? `${toJson(summary)}\n` : toTable(summary, windows), warnings };
}

async function readPrices(path: string): Promise<PriceSettings> {
  const parsed = parsePriceFile(await readFile(path, 'utf8'), path);
  if (!parsed.ok)
    throw new Error(`prices file has ${parsed.problems.length} problem(s):\n${parsed.problems.join('\n')}`);
  return parsed.settings;
}

/** One profile file ready to attribute. */
interface ProfileInput {
  readonly startMs: number;
  readonly endMs: number;
  readonly service: ServiceWindowInput;
}

/** Every regular file under `root`, sorted by path. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * Service of a file: the name of the folder it sits in when below `root` (files grouped per
 * service), else its file name up to the first `.`.
 */
export function serviceNameOf(root: string, file: string): string {
  const folder = relative(root, dirname(file));
  return folder === '' ? (basename(file).split('.')[0] ?? basename(file)) : basename(dirname(file));
}

async function readProfiles(root: string, warnings: string[]): Promise<ProfileInput[]> {
  const out: ProfileInput[] = [];
  for (const file of await listFiles(root)) {
    const bytes = await readFile(file);
    let fold: Fold;
    try {
      fold = foldProfile(bytes);
    } catch (err) {
      warnings.push(`skipped ${file}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const cost = costOf(bytes, fold);
    if ('skipped' in cost) {
      warnings.push(`skipped ${file}: ${cost.skipped}`);
      continue;
    }
    const cpu = cost.cpuNanoseconds;
    fold = cost.fold;
    // time_nanos when the profile has one, else the file's modification time, as the issue specifies.
    const startMs = fold.timeNanos > 0n ? Number(fold.timeNanos / 1_000_000n) : Math.floor((await stat(file)).mtimeMs);
    const durationMs = Number(fold.durationNanos / 1_000_000n);
    out.push({
      startMs,
      endMs: startMs + Math.max(durationMs, 1),
      service: {
        serviceName: serviceNameOf(root, file),
        fold,
        cpuNanoseconds: cpu,
        profileDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      },
    });
  }
  return out;
}

/**
 * The CPU time of a profile file as the service bills it: protobuf pprof goes through the push and pull path's own
 * classifier (any `cpu` time unit, sample counts with a CPU period; wall and memory are not CPU time), so a file
 * costs here what it costs when pushed; the other formats (legacy pprof text, folded, V8, speedscope) through the
 * profile engine's CPU time.
 */
function costOf(bytes: Uint8Array, fold: Fold): { fold: Fold; cpuNanoseconds: bigint } | { skipped: string } {
  if (fold.format === 'pprof') {
    try {
      const cost = foldPprofForCost(bytes, { labelKeys: [], maxLabelValues: 0, countWallAsCpu: false });
      return cost.action === 'store'
        ? { fold: cost.fold, cpuNanoseconds: cost.cpuNanoseconds }
        : { skipped: cost.detail };
    } catch (err) {
      if (!(err instanceof ProfileDecodeError)) throw err; // legacy text pprof: the engine read it, the classifier reads protobuf
    }
  }
  const cpu = cpuNanoseconds(fold);
  return cpu === null
    ? { skipped: `${fold.sampleType.type}/${fold.sampleType.unit} is not CPU time` }
    : { fold, cpuNanoseconds: cpu };
}

/** Profiles starting at the same instant form one window (priced at that instant). */
function groupByWindow(
  inputs: readonly ProfileInput[],
): { startMs: number; endMs: number; services: ServiceWindowInput[] }[] {
  const byStart = new Map<number, { startMs: number; endMs: number; services: ServiceWindowInput[] }>();
  for (const p of inputs) {
    const w = byStart.get(p.startMs) ?? { startMs: p.startMs, endMs: p.endMs, services: [] };
    byStart.set(p.startMs, { ...w, endMs: Math.max(w.endMs, p.endMs), services: [...w.services, p.service] });
  }
  return [...byStart.values()].sort((a, b) => a.startMs - b.startMs);
}

/** The JSON shape; integers are written as exact JSON numbers even past 2^53. */
function toJson(s: AttributionSummary): string {
  const doc = {
    currency: s.currency,
    totalMicrodollars: s.totalMicrodollars,
    teams: s.teams
      .filter((t) => t.kind !== 'group' || t.ownMicrodollars > 0n)
      .map((t) => ({ team: t.team, microdollars: t.ownMicrodollars })),
    services: s.services.map((v) => ({
      service: v.service,
      team: v.team,
      cpuNanoseconds: v.cpuNanoseconds,
      microdollars: v.microdollars,
    })),
    functions: s.functions.map((f) => ({
      service: f.service,
      function: f.function,
      selfMicrodollars: f.selfMicrodollars,
      cumMicrodollars: f.cumMicrodollars,
    })),
  };
  const marker = '\u0000bigint:';
  return JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v)).replace(
    /"\\u0000bigint:(-?\d+)"/g,
    '$1',
  );
}

const TOP_FUNCTIONS = 20;

function money(micro: bigint, currency: string): string {
  const [whole, frac = ''] = formatScaled(micro, MONEY_SCALE).split('.');
  return `${whole}.${frac.padEnd(MONEY_SCALE, '0')} ${currency}`;
}

function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number>,
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function toTable(s: AttributionSummary, windows: readonly WindowAttribution[]): string {
  const c = s.currency;
  const teams = table(
    ['TEAM', 'PARENT', 'OWN', 'ROLLED UP'],
    s.teams.map((t) => [t.team, t.parent ?? '', money(t.ownMicrodollars, c), money(t.rolledUpMicrodollars, c)]),
    new Set([2, 3]),
  );
  const services = table(
    ['SERVICE', 'TEAM', 'CPU s', 'COST', 'PRICE'],
    s.services.map((v) => [
      v.service,
      v.team,
      formatScaled(v.cpuNanoseconds, 9),
      money(v.microdollars, c),
      `${v.priceIds.join(', ')}${v.defaultPriced ? ' *' : ''}`,
    ]),
    new Set([2, 3]),
  );
  const functions = table(
    ['SERVICE', 'FUNCTION', 'SELF', 'INCLUSIVE'],
    s.functions
      .slice(0, TOP_FUNCTIONS)
      .map((f) => [f.service, f.function, money(f.selfMicrodollars, c), money(f.cumMicrodollars, c)]),
    new Set([2, 3]),
  );
  return [
    `Total ${money(s.totalMicrodollars, c)} over ${windows.length} window(s)${s.defaultPriced ? ' (* includes OpenCost default price)' : ''}`,
    '',
    teams,
    '',
    services,
    '',
    `Top ${Math.min(TOP_FUNCTIONS, s.functions.length)} of ${s.functions.length} functions by self cost`,
    functions,
    '',
  ].join('\n');
}
