/** What test/global-setup.ts hands to every test file (`inject('testDatabase')`). */
export interface TestDatabaseInfo {
  /** A connection to the server's maintenance database, for CREATE/DROP DATABASE. */
  readonly adminUrl: string;
  /** The migrated database of this run; each test file gets a fresh copy of it. */
  readonly templateName: string;
  /** "DATABASE_URL" or "embedded": which server this run uses. */
  readonly server: 'DATABASE_URL' | 'embedded';
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: TestDatabaseInfo;
  }
}

/** Same URL, other database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
