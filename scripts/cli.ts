/**
 * The one argument parser of the `npm run` scripts (node:util parseArgs): `--help` prints
 * the usage and exits 0; an unknown option, a missing value or a stray argument prints
 * what is wrong and the usage, and exits 2. Scripts use `usageError` for their own checks.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

// The SDK's notice that future versions need Node 22 says nothing about these scripts
// (they run wherever the operator is; Lambda runs Node 22). Set before any SDK client exists.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What a script accepts and how it introduces itself. */
export interface CliSpec<O extends Options> {
  /** The npm script name, as errors are prefixed with it (`token: ...`). */
  name: string;
  /** The usage line(s), starting with `usage: npm run ...`. */
  usage: string;
  options: O;
  /** Whether positional arguments are taken (else one is a usage error). */
  positionals?: boolean;
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** The exit code of a usage error, in every script. */
export const USAGE_EXIT_CODE = 2;

/** Prints a usage problem and the usage, then exits 2. */
export function usageError(spec: Pick<CliSpec<Options>, 'name' | 'usage'>, message: string): never {
  process.stderr.write(`${spec.name}: ${message}\n${spec.usage}\n`);
  process.exit(USAGE_EXIT_CODE);
}

/** Parses `argv` (default: the script's arguments) strictly, handling --help and bad options. */
export function parseCli<const O extends Options>(spec: CliSpec<O>, argv: string[] = process.argv.slice(2)) {
  const config = { args: argv, options: { ...spec.options, ...HELP } as O & typeof HELP, allowPositionals: spec.positionals ?? false, strict: true } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    usageError(spec, error instanceof Error ? error.message : String(error));
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${spec.usage}\n`);
    process.exit(0);
  }
  return parsed;
}

/** Prints why a script failed (something the operator can fix, not a usage problem), then exits 1. */
export function failure(spec: Pick<CliSpec<Options>, 'name'>, message: string): never {
  process.stderr.write(`${spec.name}: ${message}\n`);
  process.exit(1);
}

/** What to fix when an AWS SDK call failed for want of credentials or a region; undefined for other errors. */
export function awsProblem(error: unknown): string | undefined {
  if ((error as { name?: string } | null)?.name === 'CredentialsProviderError') {
    return 'no AWS credentials found. Configure them as for the AWS CLI (AWS_PROFILE, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, SSO or an instance role).';
  }
  if (/region is missing/i.test((error as { message?: string } | null)?.message ?? '')) return 'no AWS region configured: pass --region or set AWS_REGION.';
  return undefined;
}

/** A positive integer option, or a usage error naming it. */
export function positiveInteger(spec: Pick<CliSpec<Options>, 'name' | 'usage'>, option: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) usageError(spec, `--${option} must be a positive integer`);
  return value;
}
