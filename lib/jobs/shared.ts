/** The container's outbox over the shared state table (STYLE trait 2). */
import type { Config } from '#lib/config';
import { sharedStateTable } from '#lib/state';
import { Outbox } from './outbox.ts';

let outbox: Outbox | undefined;

/** The outbox every intake function of this container keeps unsent jobs in. */
export function sharedOutbox(config: Pick<Config, 'state'>): Outbox {
  outbox ??= new Outbox(sharedStateTable(config));
  return outbox;
}

/** Forgets the instance (tests). */
export function resetSharedOutboxForTests(): void {
  outbox = undefined;
}
