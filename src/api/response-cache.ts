/** A cached answer: the bytes and the headers that describe them. */
export interface CachedAnswer {
  readonly payload: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAtMs: number;
}

/**
 * Answers about closed periods by request (path, query and format), for `ttlMs`, least recently used evicted first
 * past `maxBytes`. In memory, per replica.
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private bytes = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxBytes: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get(key: string, nowMs: number): CachedAnswer | null {
    const hit = this.entries.get(key);
    if (!hit) return null;
    this.entries.delete(key);
    if (hit.expiresAtMs <= nowMs) {
      this.bytes -= hit.payload.length;
      return null;
    }
    this.entries.set(key, hit); // most recently used last
    return hit;
  }

  set(key: string, payload: string, headers: Readonly<Record<string, string>>, nowMs: number): void {
    if (!this.enabled || payload.length > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.payload.length;
      this.entries.delete(key);
    }
    this.entries.set(key, { payload, headers, expiresAtMs: nowMs + this.ttlMs });
    this.bytes += payload.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.payload.length;
    }
  }
}
