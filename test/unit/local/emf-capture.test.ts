import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { captureEmf, lineSplitter } from '#local/emf-capture.ts';

const emf = (n: number) => JSON.stringify({ _aws: { Timestamp: 1736937000000 + n, CloudWatchMetrics: [{ Namespace: 'GenesysGuestSync', Dimensions: [['stage']], Metrics: [{ Name: 'PrefillAttempts', Unit: 'Count' }] }] }, stage: 'local', PrefillAttempts: 1 });

let folder: string | undefined;
afterEach(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('the line splitter', () => {
  it('joins lines torn across chunks and keeps the last line until the end', () => {
    // Prepare
    const lines: string[] = [];
    const splitter = lineSplitter((l) => lines.push(l));

    // Act
    for (const chunk of ['al', 'pha\nbe', 'ta\r\n', '\ngam', 'ma']) splitter.push(Buffer.from(chunk));
    const before = [...lines];
    splitter.end();

    // Assess
    expect(before).toEqual(['alpha', 'beta', '']);
    expect(lines).toEqual(['alpha', 'beta', '', 'gamma']);
  });
});

describe('capturing EMF from the functions output', () => {
  it('appends only EMF lines to the metrics file and forwards everything unchanged', async () => {
    // Prepare
    folder = await mkdtemp(join(tmpdir(), 'capture-'));
    const file = join(folder, 'metrics', 'emf.jsonl');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const console = new PassThrough();
    const forwarded: Buffer[] = [];
    console.on('data', (c: Buffer) => forwarded.push(c));
    const capture = await captureEmf([{ from: stdout, to: console }, { from: stderr, to: console }], file);
    const text = `offline: GET /health\n${emf(1)}\n{"level":"INFO","message":"hello"}\n${emf(2)}`;

    // Act: one EMF line torn in two chunks, one on stderr
    stdout.write(text.slice(0, 40));
    stdout.write(text.slice(40));
    stdout.write('\n');
    stderr.write(`${emf(3)}\n`);
    await new Promise((r) => setImmediate(r));
    await capture.close();

    // Assess
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toEqual([emf(1), emf(2), emf(3)]);
    expect(Buffer.concat(forwarded).toString()).toBe(`${text}\n${emf(3)}\n`);
  });
});
