/**
 * Keeps the EMF lines the local functions print: serverless-offline's output is split
 * into lines as it streams by, and every line that is an EMF document (an object with
 * `_aws.CloudWatchMetrics`) is appended to the stack's metrics file, which the local
 * metrics report reads. Everything is still forwarded unchanged.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { isEmfLine } from '#lib/report/sources/emf.ts';

/** A line splitter: feed it chunks, it calls `onLine` with each complete line. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        onLine(pending.slice(0, newline).replace(/\r$/, ''));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    },
    end() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

/** A running capture; `close()` flushes the metrics file. */
export interface EmfCapture {
  metricsFile: string;
  close(): Promise<void>;
}

/**
 * Forwards each stream to its destination and appends the EMF lines of all of them to
 * `metricsFile` (created if missing, appended to if present: a restarted stack keeps the
 * window's history).
 */
export async function captureEmf(streams: Array<{ from: Readable; to: Writable }>, metricsFile: string): Promise<EmfCapture> {
  await mkdir(dirname(metricsFile), { recursive: true });
  const file: WriteStream = createWriteStream(metricsFile, { flags: 'a' });
  const splitters = streams.map(({ from, to }) => {
    const splitter = lineSplitter((line) => {
      if (!file.writableEnded && isEmfLine(line)) file.write(`${line.trim()}\n`);
    });
    from.on('data', (chunk: Buffer) => {
      if (!to.writableEnded) to.write(chunk);
      splitter.push(chunk);
    });
    from.on('end', () => splitter.end());
    return splitter;
  });
  return {
    metricsFile,
    close: () =>
      new Promise<void>((done) => {
        splitters.forEach((s) => s.end());
        file.end(() => done());
      }),
  };
}
