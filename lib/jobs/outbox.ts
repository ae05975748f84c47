/**
 * The outbox: CRM sync jobs that SQS did not take in time wait in the state table until
 * the scheduled sweep (functions/scheduled/outbox-sweep.ts) hands them to SQS. An accepted
 * change therefore never depends on someone reading a log line to be replayed.
 */
import type { StateItem, StateTable } from '#lib/state';

/** A job waiting in the outbox: the exact message body SQS will get (identifiers already masked). */
export interface OutboxItem extends StateItem {
  jobId: string;
  source: string;
  body: string;
  /** Always `outbox`: the partition of the sparse index the sweep reads. */
  outboxPk: 'outbox';
  /** ISO time from which the sweep may send it (sort key of that index). */
  outboxDue: string;
  keptAt: string;
  attempts: number;
  /** Why it is here (no message content). */
  reason: string;
}

/** The sparse index the sweep reads (serverless.yml `StateTable`, GSI `outbox`). */
export const OUTBOX_INDEX = 'outbox';

/** The most the sweep waits between attempts of one job. */
export const OUTBOX_MAX_BACKOFF_MS = 300_000;

const key = (jobId: string): string => `outbox#${jobId}`;

/** The outbox over the state table; every method is one or a few conditional calls. */
export class Outbox {
  constructor(
    private readonly table: StateTable,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Keeps jobs for the sweep. A job already kept stays as it is (same id, same content).
   * Resolves once every job is stored; rejects when one could not be.
   */
  async keep(entries: Array<{ jobId: string; source: string; body: string }>, reason: string): Promise<void> {
    const at = new Date(this.now()).toISOString();
    await Promise.all(
      entries.map((entry) =>
        this.table.put(
          { pk: key(entry.jobId), ...entry, outboxPk: 'outbox', outboxDue: at, keptAt: at, attempts: 0, reason } satisfies OutboxItem,
        ),
      ),
    );
  }

  /** Jobs whose next attempt is due, oldest first. */
  due(limit: number): Promise<OutboxItem[]> {
    return this.table.queryIndex<OutboxItem>({
      indexName: OUTBOX_INDEX,
      partitionField: 'outboxPk',
      partition: 'outbox',
      sortField: 'outboxDue',
      upTo: new Date(this.now()).toISOString(),
      limit,
    });
  }

  /** The job is on the queue: it leaves the outbox (a second send by a racing sweep is harmless: same job id). */
  async sent(item: OutboxItem): Promise<void> {
    await this.table.delete(item.pk);
  }

  /** The send failed again: the next attempt waits longer (doubling, at most 5 minutes). */
  async retryLater(item: OutboxItem, reason: string): Promise<void> {
    const attempts = item.attempts + 1;
    const waitMs = Math.min(OUTBOX_MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(attempts, 20));
    await this.table.put(
      { ...item, attempts, reason, outboxDue: new Date(this.now() + waitMs).toISOString() },
      { kind: 'equals', field: 'attempts', value: item.attempts },
    );
  }
}
