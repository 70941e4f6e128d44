import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** A message as the SMTP server received it: the envelope recipients and the parsed message. */
export interface Received {
  readonly rcptTo: readonly string[];
  readonly mail: ParsedMail;
  /** Bytes of the message as it came over SMTP. */
  readonly size: number;
}

export interface SmtpSink {
  readonly port: number;
  readonly received: Received[];
  /** Refuse DATA with 421 (a temporary failure) for the next `n` messages. */
  failNext(n: number): void;
  /** Never answer the next message's DATA (the client waits, as when it is killed mid-transaction); resolves when it arrives. */
  stallNext(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real SMTP server (the `smtp-server` package) on loopback that keeps what it receives, parsed with mailparser.
 * Refuses recipients whose address starts with `refuse` (550), and authentication unless the password is `secret`
 * when `requireAuth` is set.
 */
export async function startSmtpSink(options: { requireAuth?: boolean } = {}): Promise<SmtpSink> {
  const received: Received[] = [];
  let failures = 0;
  let stall: (() => void) | null = null;
  const config: SMTPServerOptions = {
    disabledCommands: options.requireAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.requireAuth,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.password === 'secret') return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('refuse'))
        return callback(Object.assign(new Error(`mailbox ${address.address} unavailable`), { responseCode: 550 }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (stall) {
          stall();
          stall = null;
          return; // no answer: the message is not accepted
        }
        if (failures > 0) {
          failures--;
          return callback(Object.assign(new Error('Try again later'), { responseCode: 421 }));
        }
        const raw = Buffer.concat(chunks);
        void simpleParser(raw, { keepCidLinks: true }).then((mail) => {
          received.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), mail, size: raw.length });
          callback();
        }, callback);
      });
    },
  };
  const server = new SMTPServer(config);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    failNext: (n) => void (failures = n),
    stallNext: () => new Promise<void>((resolve) => (stall = resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
