'use strict';
/*
 * Loads the TypeScript fold worker (ingest-fold.worker.ts) in a worker thread when flamebill runs from its sources,
 * as under vitest: Node 20 cannot load .ts files, and the test runner's transform does not reach worker threads.
 * It compiles each .ts module with @swc/core (a dev dependency, the compiler vitest uses here) as it is required.
 * Written by hand because no TypeScript loader is installed that works in a worker on Node 20 (tsx, ts-node,
 * @swc-node/register are absent); the compiled build (dist/) never uses this file: IngestFoldPool picks the
 * compiled ingest-fold.worker.js there.
 */
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = (module, filename) => {
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      sourceMaps: 'inline',
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    module._compile(code, filename);
  };
}

module.exports = require('./ingest-fold.worker.ts');
