/**
 * The environment reader every section parses with: it collects each problem instead of
 * throwing at the first, so one ConfigError names every offending variable.
 */

/** The environment a configuration is read from (`process.env` by default). */
export type Env = Record<string, string | undefined>;

/** Reads variables and keeps a list of what is wrong with them. */
export class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  required(name: string): string {
    const value = this.raw(name);
    if (value === undefined) this.problems.push(`${name} is required`);
    return value ?? '';
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  url(name: string, fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problems.push(`${name} is required`);
      return '';
    }
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('protocol');
    } catch {
      this.problems.push(`${name} must be an http(s) URL`);
      return '';
    }
    return value.replace(/\/+$/, '');
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  /** A decimal number (`4.75`) within [min, max], or the fallback when unset. */
  decimal(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be a number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  json(name: string): unknown {
    const value = this.required(name);
    if (value === '') return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      this.problems.push(`${name} must be valid JSON`);
      return undefined;
    }
  }
}
