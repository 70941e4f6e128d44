import os from 'node:os';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/settings.schema';

/**
 * The process-wide pino logger: one JSON object per line, ISO times, level names instead of numbers,
 * secrets in headers redacted. The service logs to stdout; CLI commands pass stderr so their stdout
 * stays machine-readable.
 */
export function createRootLogger(
  level: LogLevel,
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'flamebill', pid: process.pid, hostname: os.hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'req.headers["x-scope-orgid"]',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** A logger for CLI commands: to stderr, so stdout carries only the command's output. */
export function createCliLogger(level: LogLevel): Logger {
  return createRootLogger(level, pino.destination({ dest: 2, sync: true }));
}
