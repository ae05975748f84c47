/**
 * Loading the configuration: `loadConfig` reads and validates the sections a function asks
 * for, and `configAtColdStart` does it once per container, at module scope, so warm
 * invocations reuse it. A bad configuration is logged at init with every offending
 * variable named, and every invocation then fails with the same ConfigError (a 500
 * problem for HTTP), instead of crashing the runtime in a loop.
 */
import { ConfigError } from '#lib/errors';
import { logger } from '#lib/observability';
import { Reader, type Env } from './reader.ts';
import { sections } from './sections.ts';
import type { Config, SectionName } from './types.ts';

/** The sections asked for, plus `runtime`, always. */
export type Loaded<K extends SectionName> = Pick<Config, K | 'runtime'>;

/**
 * Reads and validates the named sections (plus `runtime`, always). Throws one
 * ConfigError naming every offending variable.
 */
export function loadConfig<K extends SectionName>(names: readonly K[], env: Env = process.env): Loaded<K> {
  const reader = new Reader(env);
  const result: Partial<Config> = {};
  for (const name of new Set<SectionName>(['runtime', ...names])) {
    (result as Record<string, unknown>)[name] = sections[name](reader);
  }
  if (reader.problems.length > 0) {
    const variables = [...new Set(reader.problems.map((p) => p.split(' ')[0] ?? p))];
    throw new ConfigError(`Invalid configuration: ${reader.problems.join('; ')}`, variables);
  }
  return result as Loaded<K>;
}

/** What `configAtColdStart` reads besides the sections. */
export interface ColdStartOptions<K extends SectionName, D> {
  /** The environment (default `process.env`). */
  env?: Env;
  /**
   * Values a function derives from its sections at cold start (e.g. the widget's Messenger
   * environment from GENESYS_REGION); a ConfigError it throws is handled like the sections'.
   */
  derive?: (config: Loaded<K>) => D;
}

/**
 * Loads the named sections now (and what `derive` makes of them); returns an accessor that
 * hands every invocation the same object, or throws the same ConfigError while they are invalid.
 */
export function configAtColdStart<K extends SectionName, D extends object = object>(
  names: readonly K[],
  options: ColdStartOptions<K, D> = {},
): () => Loaded<K> & D {
  try {
    const config = loadConfig(names, options.env);
    const loaded = (options.derive ? { ...config, ...options.derive(config) } : config) as Loaded<K> & D;
    return () => loaded;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error('Invalid configuration at cold start', { variables: error.variables, detail: error.message });
    return () => {
      throw error;
    };
  }
}
