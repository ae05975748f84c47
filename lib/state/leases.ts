/**
 * Write leases (docs/api.md section 1): a short-lived item `lease#<name>` that one writer
 * holds while it reads, merges and writes something that offers no conditional write of
 * its own (a Genesys external contact: `PUT` replaces the whole contact). Taking a lease is
 * one conditional put: it succeeds when no item exists or the last holder's lease has run
 * out (`leaseUntilMs` in the past; DynamoDB's TTL deletes lazily, so an expired item may
 * still be there). A holder that dies leaves a lease that frees itself at `leaseUntilMs`,
 * which is tied to the time its invocation had left.
 */
import { randomUUID } from 'node:crypto';
import { ConditionFailedError } from './errors.ts';
import type { StateItem, StateTable } from './table.ts';

/** The item a lease is. */
interface LeaseItem extends StateItem {
  owner: string;
  /** Epoch ms until which the holder may rely on the lease. */
  leaseUntilMs: number;
}

/** A lease this writer holds. */
export interface HeldLease {
  /** The item key (`lease#<name>`). */
  key: string;
  owner: string;
  /**
   * Extends the lease by `ttlMs` if this writer still holds it; false when another writer
   * took it over (this one's lease ran out), so the caller must not write on its strength.
   */
  renew(ttlMs: number): Promise<boolean>;
  /** Gives the lease up (a lease another writer took over is left alone). */
  release(): Promise<void>;
}

/** How long to wait for a lease another writer holds. */
export interface AcquireOptions {
  /** Lifetime of the lease from now, in ms (tie it to the time the invocation has left). */
  ttlMs: number;
  /** Longest wait for another writer's lease to be given up, in ms (default 0: one try). */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Leases over the state table. */
export class WriteLeases {
  constructor(
    private readonly table: StateTable,
    private readonly now: () => number = Date.now,
  ) {}

  private item(key: string, owner: string, ttlMs: number): LeaseItem {
    const leaseUntilMs = this.now() + Math.max(1, Math.ceil(ttlMs));
    // TTL a minute after the lease ends: the item is only garbage by then.
    return { pk: key, owner, leaseUntilMs, expiresAt: Math.ceil(leaseUntilMs / 1000) + 60 };
  }

  /**
   * Takes the lease `lease#<name>`, waiting (jittered, growing pauses from 25 ms up to
   * 400 ms) up to `waitMs` while another writer holds it. Resolves undefined when it could
   * not be had in that time.
   */
  async acquire(name: string, options: AcquireOptions): Promise<HeldLease | undefined> {
    const key = `lease#${name}`;
    const owner = randomUUID();
    const sleep = options.sleep ?? defaultSleep;
    const random = options.random ?? Math.random;
    const giveUpAt = this.now() + Math.max(0, options.waitMs ?? 0);
    for (let pause = 25; ; pause = Math.min(pause * 2, 400)) {
      try {
        await this.table.put(this.item(key, owner, options.ttlMs), { kind: 'absentOrBelow', field: 'leaseUntilMs', value: this.now() });
        return this.held(key, owner);
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
      const wait = Math.ceil(pause / 2 + random() * (pause / 2));
      if (this.now() + wait > giveUpAt) return undefined;
      await sleep(wait);
    }
  }

  private held(key: string, owner: string): HeldLease {
    return {
      key,
      owner,
      renew: async (ttlMs) => {
        try {
          await this.table.put(this.item(key, owner, ttlMs), { kind: 'equals', field: 'owner', value: owner });
          return true;
        } catch (error) {
          if (error instanceof ConditionFailedError) return false;
          throw error;
        }
      },
      release: async () => {
        try {
          await this.table.delete(key, { kind: 'equals', field: 'owner', value: owner });
        } catch (error) {
          if (!(error instanceof ConditionFailedError)) throw error;
        }
      },
    };
  }
}
