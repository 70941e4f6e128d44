#!/usr/bin/env node
// @ts-check
'use strict';

/**
 * Generates the demo profiles: real CPU profiles of real Node workloads (demo/workloads.js), taken with
 * @datadog/pprof's time profiler (the profiler inside @pyroscope/nodejs) with CPU time collection and
 * `endpoint`, `tenant` and `version` sample labels, written as gzipped pprof files
 * `<out>/<service>/<window start, ISO 8601 basic>.pb.gz` for the directory source to read.
 *
 * Usage: node demo/generate.js [--out demo/profiles] [--start 2026-11-21T06:00:00Z] [--windows 6]
 *                              [--scale 1] [--interval-us 2000] [--services checkout,ledger]
 *
 * Each window profiles each service for a while on this machine (about 1–2.5 s × scale, varying by
 * service and by hour of day), so one file holds roughly that much CPU time. Runs take about a minute.
 */

// Keep every named function in its own frame: with V8's inlining on, small handlers fold into their
// callers and the demo's per-function costs would be less readable. Must run before the workloads load.
require('node:v8').setFlagsFromString('--no-turbo-inlining');
// Node 26's V8 also inlines in Maglev, its mid tier; and on-stack replacement of profileWindow's request loop makes the
// CPU profiler lose that frame in every window after the first, so the stacks of later windows would look new to the
// regression scan (handle called from main). Both off: every window has the same call paths.
require('node:v8').setFlagsFromString('--no-maglev-inlining');
require('node:v8').setFlagsFromString('--no-use-osr');

const { mkdirSync, writeFileSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');
const pprof = require('@datadog/pprof');
const { SERVICES, TENANTS } = require('./workloads');

const HOUR_MS = 3_600_000;

/** Seconds of profiling per window at scale 1: the services' relative size in the demo fleet. */
const BASE_SECONDS = {
  checkout: 2.0,
  'payments-api': 1.5,
  ledger: 1.0,
  recommendations: 2.5,
  'storefront-web': 2.0,
  search: 0.6,
};

/** Traffic by demo window (hour of a morning): ramps up, peaks, eases. */
const DIURNAL = [0.7, 0.9, 1.1, 1.3, 1.2, 1.0];

function main() {
  const options = parseArguments(process.argv.slice(2));
  rmSync(options.out, { recursive: true, force: true });
  for (const service of options.services) {
    for (let window = 0; window < options.windows; window++) {
      const start = new Date(options.start.getTime() + window * HOUR_MS);
      const seconds =
        (BASE_SECONDS[/** @type {keyof typeof BASE_SECONDS} */ (service)] ?? 1) *
        (DIURNAL[window % DIURNAL.length] ?? 1) *
        options.scale;
      const bytes = profileWindow(service, window, start, seconds, options.intervalMicros);
      const directory = join(options.out, service);
      mkdirSync(directory, { recursive: true });
      const file = join(directory, `${basicIso(start)}.pb.gz`);
      writeFileSync(file, bytes);
      process.stdout.write(`${file}\t${bytes.byteLength} bytes\t${seconds.toFixed(2)} s profiled\n`);
    }
  }
}

/**
 * Runs the service's endpoints for `seconds` under the time profiler and returns the gzipped pprof.
 * @param {string} service @param {number} window @param {Date} start @param {number} seconds @param {number} intervalMicros
 */
function profileWindow(service, window, start, seconds, intervalMicros) {
  const spec = SERVICES[service];
  if (spec === undefined) throw new Error(`unknown demo service ${service}`);
  const version = spec.versions[window % spec.versions.length] ?? 'unknown';
  const random = mulberry32(hash(`${service}/${window}`));
  pprof.time.start({
    intervalMicros,
    durationMillis: Math.ceil(seconds * 1000) + 60_000,
    withContexts: true,
    collectCpuTime: true,
  });
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    const endpoint = pick(spec.endpoints, random);
    pprof.time.setContext({ endpoint: endpoint.name, tenant: pick(TENANTS, random).name, version });
    endpoint.handle(random, version);
  }
  pprof.time.setContext(undefined);
  const profile = pprof.time.stop(
    false,
    ({ context }) => /** @type {Record<string, string>} */ (context?.context ?? {}),
  );
  // Stamp the profile with its demo window so tools that read TimeNanos agree with the file name.
  profile.timeNanos = BigInt(start.getTime()) * 1_000_000n;
  return pprof.encodeSync(profile);
}

/**
 * @template {{ weight: number }} T
 * @param {readonly T[]} items @param {() => number} random @returns {T}
 */
function pick(items, random) {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let draw = random() * total;
  for (const item of items) {
    draw -= item.weight;
    if (draw < 0) return item;
  }
  return /** @type {T} */ (items[items.length - 1]);
}

/** A small seeded PRNG, so a service's request mix is the same on every run. @param {number} seed */
function mulberry32(seed) {
  let state = seed >>> 0;
  return function nextRandom() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @param {string} text */
function hash(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** `2026-11-21T06:00:00Z` → `20261121T060000Z` (no `:`, portable file names). @param {Date} date */
function basicIso(date) {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** @param {string[]} argv */
function parseArguments(argv) {
  /** @type {Record<string, string>} */
  const raw = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (!key?.startsWith('--') || value === undefined)
      throw new Error(`usage: node demo/generate.js [--option value]...; bad argument ${key}`);
    raw[key.slice(2)] = value;
  }
  const yesterday = new Date();
  yesterday.setUTCHours(0, 0, 0, 0);
  const start = raw.start ? new Date(raw.start) : new Date(yesterday.getTime() - 18 * HOUR_MS);
  if (Number.isNaN(start.getTime()) || start.getTime() % HOUR_MS !== 0)
    throw new Error('--start must be an hour-aligned ISO time');
  return {
    out: resolve(raw.out ?? join(__dirname, 'profiles')),
    start,
    windows: Number(raw.windows ?? 6),
    scale: Number(raw.scale ?? 1),
    intervalMicros: Number(raw['interval-us'] ?? 2000),
    services: raw.services ? raw.services.split(',') : Object.keys(SERVICES),
  };
}

main();
