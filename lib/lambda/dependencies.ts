/**
 * A function's dependencies object: the shared instances and settings it hands the one
 * function it calls. The configuration itself is loaded once at cold start by
 * `configAtColdStart` (#lib/config); this only defers building on it to the first request.
 */

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
