/**
 * Reading CloudWatch Embedded Metric Format lines (what Powertools Metrics prints): the
 * local stack keeps the functions' EMF lines in a file, and the local data source reads
 * them back as samples. Pure.
 */

/** One metric's values from one EMF line, with the line's dimensions. */
export interface EmfSample {
  namespace: string;
  metric: string;
  /** Epoch milliseconds (`_aws.Timestamp`). */
  timestamp: number;
  values: number[];
  /** Every dimension of the line's dimension set, by name. */
  dimensions: Record<string, string>;
}

interface EmfDirective {
  Namespace?: unknown;
  Dimensions?: unknown;
  Metrics?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The EMF metadata of a parsed JSON value, if it is an EMF document. */
function directivesOf(document: unknown): { timestamp: number; directives: EmfDirective[] } | undefined {
  if (!isObject(document) || !isObject(document['_aws'])) return undefined;
  const aws = document['_aws'];
  const directives = aws['CloudWatchMetrics'];
  const timestamp = Number(aws['Timestamp']);
  if (!Array.isArray(directives) || !Number.isFinite(timestamp)) return undefined;
  return { timestamp, directives: directives.filter(isObject) as EmfDirective[] };
}

/** Whether a printed line is an EMF document (cheap check first, then a parse). */
export function isEmfLine(line: string): boolean {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.includes('"_aws"') || !trimmed.includes('CloudWatchMetrics')) return false;
  try {
    return directivesOf(JSON.parse(trimmed)) !== undefined;
  } catch {
    return false;
  }
}

/** The samples of one EMF line; none for anything else (log lines, partial lines). */
export function parseEmfLine(line: string): EmfSample[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return [];
  let document: unknown;
  try {
    document = JSON.parse(trimmed);
  } catch {
    return [];
  }
  const meta = directivesOf(document);
  if (!meta || !isObject(document)) return [];
  const samples: EmfSample[] = [];
  for (const directive of meta.directives) {
    if (typeof directive.Namespace !== 'string' || !Array.isArray(directive.Metrics)) continue;
    const sets = Array.isArray(directive.Dimensions) ? directive.Dimensions.filter(Array.isArray) : [[]];
    for (const set of sets.length > 0 ? sets : [[]]) {
      const dimensions: Record<string, string> = {};
      for (const key of set as unknown[]) {
        if (typeof key === 'string' && typeof document[key] === 'string') dimensions[key] = document[key] as string;
      }
      for (const metric of directive.Metrics) {
        const name = isObject(metric) ? metric['Name'] : undefined;
        if (typeof name !== 'string') continue;
        const raw = document[name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        if (values.length > 0) samples.push({ namespace: directive.Namespace, metric: name, timestamp: meta.timestamp, values, dimensions });
      }
    }
  }
  return samples;
}
