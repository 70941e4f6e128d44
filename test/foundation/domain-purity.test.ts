import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: path.resolve(__dirname, '..', '..') });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message.split("'")[1] ?? '');
}

describe('eslint keeps src/domain pure', () => {
  const code = [
    "import { readFileSync } from 'node:fs';",
    "import { request } from 'http';",
    "import { Injectable } from '@nestjs/common';",
    "import type { DataSource } from 'typeorm';",
    "import { Pool } from 'pg';",
    "import { createServer } from 'node:net';",
    "import { gunzipSync } from 'node:zlib';",
    "import { createHash } from 'node:crypto';",
    'export const used = [readFileSync, request, Injectable, Pool, createServer, gunzipSync, createHash] as unknown as DataSource;',
  ].join('\n');

  it('rejects framework, database, file and network imports in src/domain, and allows zlib and crypto', async () => {
    expect(await restrictedImports('src/domain/profile/probe.ts', code)).toEqual([
      'node:fs',
      'http',
      '@nestjs/common',
      'typeorm',
      'pg',
      'node:net',
    ]);
  }, 30_000);

  it('allows them outside src/domain', async () => {
    expect(await restrictedImports('src/sources/probe.ts', code)).toEqual([]);
  }, 30_000);
});
