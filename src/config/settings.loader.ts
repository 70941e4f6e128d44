import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { withDemoPricing } from '../domain/demo/demo-settings';
import { SettingsError } from './settings.error';
import { parseSmtpUrl } from './report-settings';
import { settingsFileSchema, type Settings } from './settings.schema';
import { locateYamlPath } from './yaml-locator';

/** Environment variables that override one settings key each. `FLAMEBILL_CONFIG` picks the file itself. */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'PORT', path: ['server', 'port'], parse: parseIntegerLike },
  { variable: 'DATABASE_URL', path: ['database', 'url'], secret: true },
  { variable: 'FLAMEBILL_DATA_DIR', path: ['paths', 'dataDir'] },
  { variable: 'FLAMEBILL_CATALOG_DIR', path: ['paths', 'catalogDir'] },
  { variable: 'LOG_LEVEL', path: ['logging', 'level'] },
  { variable: 'SMTP_URL', path: ['report', 'smtp'], parse: parseSmtpUrl, secret: true },
];

/** The settings file read when `FLAMEBILL_CONFIG` is not set; it is optional. */
export const DEFAULT_CONFIG_FILE = './flamebill.yaml';

interface EnvOverride {
  readonly variable: string;
  readonly path: readonly string[];
  /** Turns the text of the variable into the value the schema expects; left as text when it does not parse. */
  readonly parse?: (text: string) => unknown;
  /** Never echo the value in an error (it may hold a password). */
  readonly secret?: boolean;
}

/** Deeply partial settings, for tests and tools that adjust a few keys. */
export type SettingsOverrides = { readonly [key: string]: unknown };

export interface LoadSettingsOptions {
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory that relative paths resolve against; defaults to `process.cwd()`. */
  readonly cwd?: string;
  /** Applied last, over file and environment (tests use it); errors in them are reported as `override`. */
  readonly overrides?: SettingsOverrides;
  /** Read this settings file instead of FLAMEBILL_CONFIG / ./flamebill.yaml; `null` reads none (tests). */
  readonly configFile?: string | null;
}

/**
 * Reads the settings file (optional unless `FLAMEBILL_CONFIG` names it), applies environment
 * variables and overrides, and validates the result.
 * @throws SettingsError with one line naming the setting (variable, or key with file:line:column) and the problem.
 */
export function loadSettings(options: LoadSettingsOptions = {}): Settings {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file =
    options.configFile === null
      ? null
      : readSettingsFile(options.configFile === undefined ? env : { FLAMEBILL_CONFIG: options.configFile }, cwd);
  const raw = structuredClone(file?.data ?? {});
  const fromEnv = applyEnvironment(raw, env);
  if (options.overrides) deepMerge(raw, options.overrides);
  const result = settingsFileSchema.safeParse(raw);
  if (!result.success) {
    throw new SettingsError(describeIssues(result.error.issues, { file, fromEnv, cwd, overrides: options.overrides }));
  }
  const demo = demoApplies(result.data);
  const priced = demo ? withDemoPricing(result.data) : result.data;
  // The demo's profiles carry a `tenant` label too: its breakdown shows on the first start unless keys are chosen.
  const labelled = (raw as { labels?: { keys?: unknown } }).labels?.keys;
  const settings =
    demo && labelled === undefined && !priced.labels.keys.includes('tenant')
      ? { ...priced, labels: { ...priced.labels, keys: [...priced.labels.keys, 'tenant'] } }
      : priced;
  return {
    ...settings,
    paths: {
      dataDir: path.resolve(cwd, settings.paths.dataDir),
      catalogDir: path.resolve(cwd, settings.paths.catalogDir),
    },
    configFile: file?.path ?? null,
    envSources: Object.fromEntries([...fromEnv].map(([key, applied]) => [key, applied.override.variable])),
  };
}

/**
 * Whether the first start's demo is priced as its simulated fleet (`withDemoPricing`): the demo is on, no source is
 * configured (the only case it loads, src/demo) and the settings price nothing themselves (no `prices`, no `cost`
 * beyond the defaults). Decided here so that every process (serve, its jobs, `flamebill run`) prices alike.
 */
function demoApplies(settings: z.output<typeof settingsFileSchema>): boolean {
  const { default: mode, sources } = settings.cost;
  const defaultCost = mode.mode === 'measured' && mode.samplingFraction.num === mode.samplingFraction.den;
  return (
    settings.schedules.demo &&
    settings.sources.length === 0 &&
    settings.prices.length === 0 &&
    Object.keys(sources).length === 0 &&
    defaultCost
  );
}

/** How to name a setting to the user: its environment variable when it came from one, else its key. */
export function settingName(settings: Settings, key: string): string {
  return settings.envSources[key] ?? key;
}

interface SettingsFile {
  readonly path: string;
  readonly data: Record<string, unknown>;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
}

function readSettingsFile(env: NodeJS.ProcessEnv, cwd: string): SettingsFile | null {
  const explicit = nonEmpty(env.FLAMEBILL_CONFIG);
  const filePath = path.resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && explicit === undefined) return null;
    const problem = code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(error)})`;
    throw new SettingsError(`invalid setting FLAMEBILL_CONFIG (environment variable): ${problem}: ${filePath}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const display = displayPath(filePath, cwd);
  const [yamlError] = doc.errors;
  if (yamlError) {
    const { line, col } = lineCounter.linePos(yamlError.pos[0]);
    throw new SettingsError(`cannot parse settings file ${display}:${line}:${col}: ${yamlError.message}`);
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data) || data === null) {
    throw new SettingsError(
      `invalid settings file ${display}:1:1: expected a mapping of sections (server, database, ...)`,
    );
  }
  return { path: filePath, data: data as Record<string, unknown>, doc, lineCounter };
}

/** Writes each set environment variable into `raw`; returns which dotted paths came from which variable. */
function applyEnvironment(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, AppliedEnv> {
  const applied = new Map<string, AppliedEnv>();
  for (const override of ENV_OVERRIDES) {
    const text = nonEmpty(env[override.variable]);
    if (text === undefined) continue;
    setIn(raw, override.path, override.parse ? override.parse(text) : text);
    applied.set(override.path.join('.'), { override, text });
  }
  return applied;
}

interface AppliedEnv {
  readonly override: EnvOverride;
  readonly text: string;
}

interface IssueContext {
  readonly file: SettingsFile | null;
  readonly fromEnv: Map<string, AppliedEnv>;
  readonly cwd: string;
  readonly overrides: SettingsOverrides | undefined;
}

/** One line for the first issue; the others are counted, since fixing one at a time is the usual loop. */
function describeIssues(issues: readonly z.core.$ZodIssue[], context: IssueContext): string {
  const [first, ...rest] = issues;
  if (!first) return 'invalid settings';
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  return describeIssue(first, context) + more;
}

function describeIssue(issue: z.core.$ZodIssue, context: IssueContext): string {
  const isUnknownKey = issue.code === 'unrecognized_keys';
  const keyPath = isUnknownKey ? [...issue.path, issue.keys[0] ?? ''] : [...issue.path];
  const problem = isUnknownKey ? unknownKeyProblem(issue.keys) : issue.message;
  const fromEnv = findEnvOverride(keyPath, context.fromEnv);
  if (fromEnv) {
    const shown = fromEnv.override.secret ? '' : ` (got ${JSON.stringify(fromEnv.text)})`;
    return `invalid setting ${fromEnv.override.variable} (environment variable): ${problem}${shown}`;
  }
  const name = formatPath(keyPath);
  if (context.overrides && hasPath(context.overrides, keyPath)) return `invalid setting ${name} (override): ${problem}`;
  if (!context.file) return `invalid setting ${name}: ${problem}`;
  const where = locateYamlPath(context.file.doc, context.file.lineCounter, keyPath, isUnknownKey);
  const location = `${displayPath(context.file.path, context.cwd)}${where ? `:${where.line}:${where.column}` : ''}`;
  return `invalid setting ${name} (${location}): ${problem}`;
}

function unknownKeyProblem(keys: readonly string[]): string {
  return keys.length > 1 ? `unknown keys ${keys.join(', ')}` : 'unknown key';
}

function findEnvOverride(keyPath: readonly PropertyKey[], fromEnv: Map<string, AppliedEnv>): AppliedEnv | undefined {
  for (let length = keyPath.length; length > 0; length--) {
    const found = fromEnv.get(keyPath.slice(0, length).map(String).join('.'));
    if (found) return found;
  }
  return undefined;
}

/** `labels.keys[2]` style: what a user searches for in the file. */
export function formatPath(keyPath: readonly PropertyKey[]): string {
  return keyPath
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index > 0 ? '.' : ''}${String(segment)}`,
    )
    .join('');
}

function displayPath(filePath: string, cwd: string): string {
  const relative = path.relative(cwd, filePath);
  return relative.startsWith('..') || path.isAbsolute(relative) ? filePath : relative;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function parseIntegerLike(text: string): unknown {
  return /^[+-]?\d+$/.test(text.trim()) ? Number(text) : text;
}

function setIn(target: Record<string, unknown>, keyPath: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1] as string] = value;
}

function deepMerge(target: Record<string, unknown>, source: SettingsOverrides): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value);
    else target[key] = isPlainObject(value) ? structuredClone(value) : value;
  }
}

function hasPath(source: SettingsOverrides, keyPath: readonly PropertyKey[]): boolean {
  let node: unknown = source;
  for (const key of keyPath) {
    if (!isPlainObject(node) || !(String(key) in node)) return false;
    node = node[String(key)];
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
