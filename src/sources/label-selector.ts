/**
 * A Prometheus-style selector matching one label value exactly, e.g. `{service_name="checkout"}`.
 * The value is quoted as a JSON string, whose escapes (`\"`, `\\`, `\n`, `\uXXXX`) are a subset of the
 * Go string literal escapes the Pyroscope and Parca selector parsers accept.
 */
export function labelSelector(label: string, value: string): string {
  return `{${label}=${JSON.stringify(value)}}`;
}
