/**
 * The esbuild options serverless-esbuild derives from `custom.esbuild` (its defaults, minus
 * its own keys, `exclude` turned into `external`), so the benchmark's own builds (bare
 * twins, "SDK external" variants) are built exactly like the packaged functions.
 */
import type { BuildOptions } from 'esbuild';

/** serverless-esbuild 1.x defaults that matter to esbuild (dist/index.js, DEFAULT_BUILD_OPTIONS). */
const PLUGIN_DEFAULTS: Record<string, unknown> = {
  bundle: true,
  target: 'node18',
  external: [],
  exclude: ['aws-sdk'],
  platform: 'node',
  outputFileExtension: '.js',
};

/** Keys serverless-esbuild consumes itself and never passes to esbuild. */
const PLUGIN_KEYS = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
];

const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string');

/** What the benchmark builds with, and the bundle file extension serverless-esbuild writes. */
export interface ResolvedBuild {
  options: BuildOptions;
  outputExtension: string;
}

/** Resolves `custom.esbuild` (from serverless-state.json) into esbuild options. */
export function esbuildOptionsFrom(custom: Record<string, unknown>): ResolvedBuild {
  if (custom['config'] !== undefined || custom['plugins'] !== undefined) {
    throw new Error('custom.esbuild uses "config" or "plugins"; bench/support/esbuild-options.ts cannot replicate that build');
  }
  const merged: Record<string, unknown> = { ...PLUGIN_DEFAULTS, ...custom };
  const exclude = strings(merged['exclude']);
  const options: Record<string, unknown> = { ...merged };
  for (const key of PLUGIN_KEYS) delete options[key];
  options['external'] = [...strings(merged['external']), ...(exclude.includes('*') ? [] : exclude)];
  return { options: options as BuildOptions, outputExtension: String(merged['outputFileExtension']) };
}
