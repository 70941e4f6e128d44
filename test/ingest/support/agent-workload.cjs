'use strict';
// A small Node workload profiled by the published Pyroscope agent (@pyroscope/nodejs), pushing to SERVER_ADDRESS.
// Burns CPU under two `endpoint` labels, flushes every FLUSH_MS, runs RUN_MS, then stops the agent (which pushes the
// last profile) and exits. Started by test/ingest/pyroscope-agent.e2e.test.ts.
const Pyroscope = require('@pyroscope/nodejs');

const flushIntervalMs = Number(process.env.FLUSH_MS || 2000);
const runMs = Number(process.env.RUN_MS || 5000);

Pyroscope.init({
  serverAddress: process.env.SERVER_ADDRESS,
  appName: process.env.APP_NAME || 'shop',
  authToken: process.env.AUTH_TOKEN || undefined,
  flushIntervalMs,
  wall: { collectCpuTime: true },
  tags: { env: 'test', version: 'v1' },
});
Pyroscope.start();

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function checkout() {
  let x = 0;
  for (let i = 0; i < 3; i++) x += fib(22);
  return x;
}

function search() {
  let s = '';
  for (let i = 0; i < 2000; i++) s = (s + i.toString(36)).slice(-64);
  return fib(20) + s.length;
}

let sink = 0;
const work = setInterval(() => {
  Pyroscope.wrapWithLabels({ endpoint: '/checkout' }, () => {
    sink += checkout();
  });
  Pyroscope.wrapWithLabels({ endpoint: '/search' }, () => {
    sink += search();
  });
}, 5);

setTimeout(async () => {
  clearInterval(work);
  await Pyroscope.stop();
  process.stdout.write(`done ${sink > 0}\n`);
  process.exit(0);
}, runMs);
