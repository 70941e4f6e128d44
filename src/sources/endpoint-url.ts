/**
 * Joins a base URL that may carry a path prefix (e.g. a Grafana data source proxy,
 * `https://grafana.example/api/datasources/proxy/uid/abc`) with an API path, keeping the prefix.
 */
export function joinUrl(base: string, path: string, query?: URLSearchParams): string {
  const url = new URL(base);
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = `${prefix}/${path.replace(/^\/+/, '')}`;
  url.search = query === undefined ? '' : query.toString();
  url.hash = '';
  return url.toString();
}
