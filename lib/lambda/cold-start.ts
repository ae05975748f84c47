/**
 * Configuration read once at cold start. A bad configuration is logged at init with every
 * offending variable named, and every invocation then fails with the same ConfigError
 * (a 500 problem for HTTP), instead of crashing the runtime in a loop.
 */
import { loadConfig, type Config, type SectionName } from '#lib/config';
import { ConfigError } from '#lib/errors';
import { logger } from '#lib/observability';

/** Loads the named config sections now; returns an accessor that throws while they are invalid. */
export function configAtColdStart<K extends SectionName>(
  names: readonly K[],
  env: Record<string, string | undefined> = process.env,
): () => Pick<Config, K | 'runtime'> {
  try {
    const config = loadConfig(names, env);
    return () => config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error('Invalid configuration at cold start', { variables: error.variables, detail: error.message });
    return () => {
      throw error;
    };
  }
}

/**
 * `configAtColdStart` for a loader of a function's own (settings outside the shared
 * sections): run once now, a ConfigError logged at init and thrown by every call.
 */
export function loadAtColdStart<T>(load: () => T): () => T {
  try {
    const value = load();
    return () => value;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error('Invalid configuration at cold start', { variables: error.variables, detail: error.message });
    return () => {
      throw error;
    };
  }
}

/**
 * A function's dependencies object, built at its first use and reused while the container
 * is warm. Built lazily rather than at import so that a bad configuration fails each
 * request with its problem (and its audit) instead of the import; a build that throws is
 * tried again by the next call.
 */
export function dependenciesOnFirstUse<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
