/**
 * The fault engine both sandboxes share: rules posted by a test decide which upcoming
 * requests get an injected status, delay or dropped connection.
 */
import { randomUUID } from 'node:crypto';
import { isPlainObject } from './util.ts';

/** One fault rule as posted to `POST /__sandbox/faults`. */
export interface FaultRule {
  /** Operation name the sandbox assigns to the route: the SDK function (e.g. `patchConversationParticipantAttributes`). */
  operation?: string;
  /** HTTP method, case-insensitive. */
  method?: string;
  /** Path prefix, or a regular expression when the string starts with `^`. */
  path?: string;
  /** Status to answer with (default 429 when only `retryAfterSeconds` is given). */
  status?: number;
  /** Adds `Retry-After` with this many seconds to the injected answer. */
  retryAfterSeconds?: number;
  /** JSON body of the injected answer (default: the sandbox's error shape). */
  body?: unknown;
  /** Wait this long before doing anything else with the request. */
  delayMs?: number;
  /** Process the request for real, then wait this long before answering (or dropping, or answering `status`). */
  delayAfterCommitMs?: number;
  /** Destroy the socket instead of answering: the caller sees a network error. */
  dropConnection?: boolean;
  /** How many matching requests the rule affects (default: unlimited). */
  times?: number;
  /** Let the first N matching requests through untouched. */
  afterCount?: number;
}

/** A rule as stored: with its id and how often it matched and fired. */
export interface StoredFaultRule extends FaultRule {
  id: string;
  /** Matching requests seen so far (including the ones skipped by `afterCount`). */
  matched: number;
  /** Requests the rule actually affected. */
  applied: number;
}

/** What a rule is matched against. */
export interface FaultTarget {
  operation: string;
  method: string;
  path: string;
}

/** A rule body that cannot be used; the control route answers 400 with its message. */
export class FaultRuleError extends Error {}

const RULE_KEYS = new Set([
  'operation',
  'method',
  'path',
  'status',
  'retryAfterSeconds',
  'body',
  'delayMs',
  'delayAfterCommitMs',
  'dropConnection',
  'times',
  'afterCount',
]);

const MAX_DELAY_MS = 10 * 60 * 1000;

/** Checks one posted rule and returns it typed; throws `FaultRuleError` naming the problem. */
export function parseFaultRule(raw: unknown, index = 0): FaultRule {
  const where = `rules[${index}]`;
  if (!isPlainObject(raw)) throw new FaultRuleError(`${where} must be an object`);
  for (const key of Object.keys(raw)) {
    if (!RULE_KEYS.has(key)) throw new FaultRuleError(`${where}.${key} is not a fault rule field`);
  }
  const rule: FaultRule = {};
  for (const key of ['operation', 'method', 'path'] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw new FaultRuleError(`${where}.${key} must be a non-empty string`);
    rule[key] = value;
  }
  if (rule.path?.startsWith('^')) {
    try {
      new RegExp(rule.path);
    } catch {
      throw new FaultRuleError(`${where}.path is not a valid regular expression`);
    }
  }
  const integer = (key: keyof FaultRule, min: number, max: number): number | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new FaultRuleError(`${where}.${key} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
  const status = integer('status', 200, 599);
  const retryAfterSeconds = integer('retryAfterSeconds', 0, 86_400);
  const delayMs = integer('delayMs', 0, MAX_DELAY_MS);
  const delayAfterCommitMs = integer('delayAfterCommitMs', 0, MAX_DELAY_MS);
  const times = integer('times', 1, Number.MAX_SAFE_INTEGER);
  const afterCount = integer('afterCount', 0, Number.MAX_SAFE_INTEGER);
  if (status !== undefined) rule.status = status;
  if (retryAfterSeconds !== undefined) rule.retryAfterSeconds = retryAfterSeconds;
  if (delayMs !== undefined) rule.delayMs = delayMs;
  if (delayAfterCommitMs !== undefined) rule.delayAfterCommitMs = delayAfterCommitMs;
  if (times !== undefined) rule.times = times;
  if (afterCount !== undefined) rule.afterCount = afterCount;
  if (raw.dropConnection !== undefined) {
    if (typeof raw.dropConnection !== 'boolean') throw new FaultRuleError(`${where}.dropConnection must be a boolean`);
    rule.dropConnection = raw.dropConnection;
  }
  if (raw.body !== undefined) rule.body = raw.body;
  if (
    rule.status === undefined &&
    rule.retryAfterSeconds === undefined &&
    rule.delayMs === undefined &&
    rule.delayAfterCommitMs === undefined &&
    rule.dropConnection !== true
  ) {
    throw new FaultRuleError(
      `${where} has no effect: set status, retryAfterSeconds, delayMs, delayAfterCommitMs or dropConnection`,
    );
  }
  return rule;
}

/** Checks a `{ rules: [...] }` control body. */
export function parseFaultRules(body: unknown): FaultRule[] {
  if (!isPlainObject(body) || !Array.isArray(body.rules)) {
    throw new FaultRuleError('body must be { "rules": [ ... ] }');
  }
  return body.rules.map((rule, index) => parseFaultRule(rule, index));
}

/** The status an injected answer uses: the rule's, else 429 for a bare `retryAfterSeconds`. */
export function faultStatus(rule: FaultRule): number | undefined {
  return rule.status ?? (rule.retryAfterSeconds !== undefined ? 429 : undefined);
}

interface ActiveRule {
  stored: StoredFaultRule;
  pathRegex?: RegExp;
}

/** Holds the rules in order and hands out the first one that fires for a request. */
export class FaultEngine {
  private rules: ActiveRule[] = [];

  /** Appends rules (validated) and returns them with their ids. */
  add(rules: FaultRule[]): StoredFaultRule[] {
    const added = rules.map((raw, index) => {
      const rule = parseFaultRule(raw, index);
      const stored: StoredFaultRule = { id: randomUUID(), ...rule, matched: 0, applied: 0 };
      const active: ActiveRule = { stored };
      if (rule.path?.startsWith('^')) active.pathRegex = new RegExp(rule.path);
      return active;
    });
    this.rules.push(...added);
    return added.map((active) => structuredClone(active.stored));
  }

  /** Removes every rule. */
  clear(): void {
    this.rules = [];
  }

  /** Copies of every rule with its counters, in matching order. */
  list(): StoredFaultRule[] {
    return this.rules.map((active) => structuredClone(active.stored));
  }

  /**
   * The rule that affects this request, if any, with its counters moved on. Rules are
   * tried in order; a rule that is used up (`times`) or still skipping (`afterCount`)
   * lets later rules have their turn.
   */
  take(target: FaultTarget): StoredFaultRule | undefined {
    for (const active of this.rules) {
      const rule = active.stored;
      if (!this.matches(active, target)) continue;
      if (rule.times !== undefined && rule.applied >= rule.times) continue;
      rule.matched += 1;
      if (rule.matched <= (rule.afterCount ?? 0)) continue;
      rule.applied += 1;
      return structuredClone(rule);
    }
    return undefined;
  }

  private matches(active: ActiveRule, target: FaultTarget): boolean {
    const rule = active.stored;
    if (rule.operation !== undefined && rule.operation !== target.operation) return false;
    if (rule.method !== undefined && rule.method.toUpperCase() !== target.method.toUpperCase()) return false;
    if (rule.path !== undefined) {
      if (active.pathRegex) return active.pathRegex.test(target.path);
      return target.path.startsWith(rule.path);
    }
    return true;
  }
}
