const TYPES: Record<string, string> = {
  xml: 'application/xml',
  txt: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  gz: 'application/gzip',
  zip: 'application/zip',
  png: 'image/png',
  parquet: 'application/vnd.apache.parquet',
};

export function contentTypeOf(path: string): string {
  const ext = path.split('/').pop()?.split('.').pop()?.toLowerCase() ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}
