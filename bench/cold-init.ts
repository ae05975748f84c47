/**
 * Benchmark (b): for every function in serverless.yml, the packaged bundle's size and cold
 * init time next to a bare twin (a handler importing only the same AWS SDK clients, built
 * with the same esbuild options), as a ratio; and, to decide whether to bundle the AWS SDK,
 * the same code with `@aws-sdk/*` left external and resolved from node_modules the way
 * Lambda's runtime copy would be, for each function that uses the SDK and for a synthetic
 * SQS + Secrets Manager handler.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { startAwsJsonStub } from './support/aws-stub.ts';
import { measureColdInits, type InitSamples, type InitVariant } from './support/cold-start.ts';
import { esbuildOptionsFrom, type ResolvedBuild } from './support/esbuild-options.ts';
import { bytes, ms, ratio, table } from './support/markdown.ts';
import { packageService, unzip, type PackagedFunction } from './support/package-service.ts';
import { median, percentile } from './support/stats.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

/** Fresh processes per bundle (override with BENCH_COLD_RUNS for a quick look). */
const RUNS = Number(process.env['BENCH_COLD_RUNS'] ?? 15);
const WARMUPS = 1;
/** The goals for a function's cold start relative to its bare twin: the import, and the whole process. */
const RATIO_GOAL = 1.5;
const PROCESS_RATIO_GOAL = 1.3;
const REGION = 'eu-west-1';
const SDK_EXTERNAL = '@aws-sdk/*';
const ENTRY_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** Source of the synthetic pair: what an SQS producer with a secret would import and do. */
const SYNTHETIC_SOURCE = `
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const sqs = new SQSClient({});
const secrets = new SecretsManagerClient({});

export const handler = async () => {
  const [secret, batch] = await Promise.all([
    secrets.send(new GetSecretValueCommand({ SecretId: 'bench/secret' })),
    sqs.send(new SendMessageBatchCommand({
      QueueUrl: process.env.BENCH_QUEUE_URL,
      Entries: [{ Id: '1', MessageBody: '{}' }],
    })),
  ]);
  return { statusCode: 200, body: String(secret.$metadata.httpStatusCode) + String(batch.$metadata.httpStatusCode) };
};
`;

/**
 * The shared stack piece by piece: what each costs to import on its own, next to an empty
 * handler, built with the same options. It shows what a function with no SDK client (health)
 * cannot shed while it uses the stack every function shares.
 */
const STACK_PIECES: ReadonlyArray<{ id: string; label: string; source: string }> = [
  { id: 'empty', label: 'empty handler', source: `export const handler = async () => ({ statusCode: 200 });` },
  {
    id: 'crypto',
    label: '`node:crypto` (request ids)',
    source: `import { randomUUID } from 'node:crypto';\nexport const handler = async () => ({ statusCode: 200, body: randomUUID() });`,
  },
  {
    id: 'middy',
    label: 'middy core + the HTTP middlewares of `lib/lambda/http.ts`',
    source: [
      `import middy from '@middy/core';`,
      `import httpHeaderNormalizer from '@middy/http-header-normalizer';`,
      `import httpJsonBodyParser from '@middy/http-json-body-parser';`,
      `import httpSecurityHeaders from '@middy/http-security-headers';`,
      `export const handler = middy(async () => ({ statusCode: 200 })).use(httpHeaderNormalizer()).use(httpJsonBodyParser()).use(httpSecurityHeaders());`,
    ].join('\n'),
  },
  {
    id: 'logger',
    label: 'Powertools Logger',
    source: `import { Logger } from '@aws-lambda-powertools/logger';\nconst logger = new Logger({ serviceName: 'bench' });\nexport const handler = async () => { logger.info('bench'); return { statusCode: 200 }; };`,
  },
  {
    id: 'metrics',
    label: 'Powertools Metrics',
    source: `import { Metrics } from '@aws-lambda-powertools/metrics';\nconst metrics = new Metrics({ namespace: 'bench', serviceName: 'bench' });\nexport const handler = async () => { metrics.addMetric('bench', 'Count', 1); return { statusCode: 200 }; };`,
  },
  {
    id: 'observability',
    label: '`lib/observability` (logger and metrics as every function has them)',
    source: `import { logger, metrics } from '#lib/observability';\nexport const handler = async () => { logger.info('bench'); return { statusCode: 200, body: String(Boolean(metrics)) }; };`,
  },
];

/** One bundle on disk with its sizes. */
interface BuiltBundle {
  bundle: string;
  mjsBytes: number;
  mapBytes: number;
  /** The artifact's size, or the deflated .mjs + .map (what a zip of them weighs, near enough). */
  zipBytes: number;
  zipIsArtifact: boolean;
}

interface FunctionPlan {
  fn: PackagedFunction;
  exportName: string;
  sdkClients: string[];
  /** The build pulled in `purecloud-platform-client-v2` (it must not: tests and type checks only). */
  genesysSdk: boolean;
  packaged: BuiltBundle;
  ownBuildBytes: number;
  twin: BuiltBundle;
  external?: { fn: BuiltBundle; twin: BuiltBundle };
  env: Record<string, string>;
}

async function sizes(bundle: string, artifact?: string): Promise<BuiltBundle> {
  const mjs = await readFile(bundle);
  const map = existsSync(`${bundle}.map`) ? await readFile(`${bundle}.map`) : Buffer.alloc(0);
  const zipBytes = artifact ? (await stat(artifact)).size : deflateRawSync(mjs).length + (map.length ? deflateRawSync(map).length : 0);
  return { bundle, mjsBytes: mjs.length, mapBytes: map.length, zipBytes, zipIsArtifact: artifact !== undefined };
}

/** Builds one entry (a file, or inline source) like serverless-esbuild does, to `outfile`. */
async function buildLike(
  resolved: ResolvedBuild,
  projectRoot: string,
  outfile: string,
  input: { entry: string } | { source: string },
  extraExternal: string[] = [],
): Promise<Metafile> {
  const { outExtension: _ignored, ...base } = resolved.options;
  const options: BuildOptions = {
    ...base,
    external: [...(base.external ?? []), ...extraExternal],
    absWorkingDir: projectRoot,
    outfile,
    metafile: true,
    logLevel: 'silent',
    ...('entry' in input
      ? { entryPoints: [input.entry] }
      : { stdin: { contents: input.source, resolveDir: projectRoot, sourcefile: 'bench-handler.ts', loader: 'ts' as const } }),
  };
  await mkdir(dirname(outfile), { recursive: true });
  const result = await build(options);
  return result.metafile as Metafile;
}

/** The `@aws-sdk/client-*` packages a build pulled in (directly or through a dependency). */
function sdkClientsOf(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(input);
    if (match?.[1]) found.add(match[1]);
  }
  return [...found].sort();
}

/** Whether a build pulled in the official Genesys SDK (a devDependency for tests only). */
function carriesGenesysSdk(metafile: Metafile): boolean {
  return Object.keys(metafile.inputs).some((input) => input.includes('node_modules/purecloud-platform-client-v2/'));
}

/** The client class a package exports (`SQSClient` for `@aws-sdk/client-sqs`). */
async function clientClassOf(projectRoot: string, pkg: string): Promise<string> {
  const require = createRequire(join(projectRoot, 'package.json'));
  const mod = (await import(pathToFileURL(require.resolve(pkg)).href)) as Record<string, unknown>;
  const names = Object.keys(mod)
    .filter((k) => /^[A-Z][A-Za-z0-9]*Client$/.test(k) && typeof mod[k] === 'function')
    .sort((a, b) => a.length - b.length);
  if (!names[0]) throw new Error(`${pkg} exports no *Client class`);
  return names[0];
}

/** A handler that imports only the given SDK clients (none: an empty handler). */
async function twinSource(projectRoot: string, clients: readonly string[]): Promise<string> {
  const lines: string[] = [];
  const refs: string[] = [];
  for (const [i, pkg] of clients.entries()) {
    const name = await clientClassOf(projectRoot, pkg);
    lines.push(`import { ${name} as Client${i} } from '${pkg}';`);
    refs.push(`Client${i}`);
  }
  lines.push(`const clients: unknown[] = [${refs.join(', ')}];`);
  lines.push(`export const handler = async () => ({ statusCode: 200, body: String(clients.length) });`);
  return lines.join('\n');
}

/** The environment Lambda gives the function; CloudFormation references become placeholders. */
function lambdaEnv(workDir: string, name: string, memorySize: number | undefined, environment: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    TZ: ':UTC',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize ?? 1024),
    // No shared config files: the SDK must not read the developer's ~/.aws.
    AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
  };
  for (const [key, value] of Object.entries(environment)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') env[key] = String(value);
    else env[key] = key.endsWith('_URL') ? 'https://example.invalid/bench-placeholder' : 'bench-placeholder';
  }
  return env;
}

/** The same environment without `--enable-source-maps`, or undefined when it is not set. */
function withoutSourceMapsEnv(env: Record<string, string>): Record<string, string> | undefined {
  const options = env['NODE_OPTIONS']?.split(/\s+/).filter(Boolean) ?? [];
  if (!options.includes('--enable-source-maps')) return undefined;
  const rest = options.filter((o) => o !== '--enable-source-maps');
  const { NODE_OPTIONS: _dropped, ...others } = env;
  return rest.length ? { ...others, NODE_OPTIONS: rest.join(' ') } : others;
}

function findEntry(projectRoot: string, modulePath: string): string {
  for (const ext of ENTRY_EXTENSIONS) {
    const candidate = join(projectRoot, `${modulePath}${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`no source file for handler module ${modulePath}`);
}

async function planFunction(
  fn: PackagedFunction,
  resolved: ResolvedBuild,
  projectRoot: string,
  workDir: string,
): Promise<FunctionPlan> {
  const dot = fn.handler.lastIndexOf('.');
  const modulePath = fn.handler.slice(0, dot);
  const exportName = fn.handler.slice(dot + 1);
  const entry = findEntry(projectRoot, modulePath);
  const bundleName = `${modulePath}${resolved.outputExtension}`;

  // The artifact as deployed: no node_modules anywhere above it.
  const packagedDir = join(workDir, 'bundled', 'functions', fn.key);
  await unzip(fn.artifact, packagedDir);
  const packaged = await sizes(join(packagedDir, bundleName), fn.artifact);

  // Our own build with the same options: its metafile names the SDK clients, and its size
  // checks that these options really are the ones serverless-esbuild used.
  const ownOut = join(workDir, 'own', fn.key, bundleName);
  const ownMetafile = await buildLike(resolved, projectRoot, ownOut, { entry });
  const sdkClients = sdkClientsOf(ownMetafile);
  const genesysSdk = carriesGenesysSdk(ownMetafile);
  const ownBuildBytes = (await stat(ownOut)).size;

  const source = await twinSource(projectRoot, sdkClients);
  const twinOut = join(workDir, 'bundled', 'twins', fn.key, `handler${resolved.outputExtension}`);
  await buildLike(resolved, projectRoot, twinOut, { source });
  const twin = await sizes(twinOut);

  let external: FunctionPlan['external'];
  if (sdkClients.length > 0) {
    const fnOut = join(workDir, 'external', 'functions', fn.key, bundleName);
    const twinExtOut = join(workDir, 'external', 'twins', fn.key, `handler${resolved.outputExtension}`);
    await buildLike(resolved, projectRoot, fnOut, { entry }, [SDK_EXTERNAL]);
    await buildLike(resolved, projectRoot, twinExtOut, { source }, [SDK_EXTERNAL]);
    external = { fn: await sizes(fnOut), twin: await sizes(twinExtOut) };
  }
  return {
    fn,
    exportName,
    sdkClients,
    genesysSdk,
    packaged,
    ownBuildBytes,
    twin,
    ...(external ? { external } : {}),
    env: lambdaEnv(workDir, fn.name, fn.memorySize, fn.environment),
  };
}

interface Stats {
  importP50: number;
  importP90: number;
  invokeP50: number;
  invokeP90: number;
  wallP50: number;
  wallP90: number;
  notes: string[];
}

function statsOf(samples: InitSamples | undefined): Stats {
  const s = samples ?? { importMs: [], invokeMs: [], wallMs: [], notes: new Set<string>() };
  return {
    importP50: median(s.importMs),
    importP90: percentile(s.importMs, 90),
    invokeP50: median(s.invokeMs),
    invokeP90: percentile(s.invokeMs, 90),
    wallP50: median(s.wallMs),
    wallP90: percentile(s.wallMs, 90),
    notes: [...s.notes],
  };
}

const p50p90 = (p50: number, p90: number): string => `${ms(p50)} / ${ms(p90)}`;
const zipCell = (b: BuiltBundle): string => (b.zipIsArtifact ? bytes(b.zipBytes) : `≈ ${bytes(b.zipBytes)}`);
const shortSdk = (clients: readonly string[]): string =>
  clients.length ? clients.map((c) => c.replace('@aws-sdk/', '')).join(', ') : 'none';

async function run(context: BenchContext): Promise<string> {
  const { projectRoot } = context;
  const workDir = await mkdtemp(join(os.tmpdir(), 'genesys-guest-sync-bench-'));
  try {
    context.progress('cold init: osls package --stage example (in a private copy of the service folder)');
    const service = await packageService(projectRoot, workDir);
    const resolved = esbuildOptionsFrom(service.esbuild);
    // External bundles resolve @aws-sdk/* from here, as Lambda resolves its runtime copy.
    await mkdir(join(workDir, 'external'), { recursive: true });
    await symlink(join(projectRoot, 'node_modules'), join(workDir, 'external', 'node_modules'));

    context.progress(`cold init: building twins and SDK-external variants for ${service.functions.length} function(s)`);
    const plans: FunctionPlan[] = [];
    for (const fn of service.functions) plans.push(await planFunction(fn, resolved, projectRoot, workDir));

    const syntheticBundled = join(workDir, 'bundled', 'synthetic', `handler${resolved.outputExtension}`);
    const syntheticExternal = join(workDir, 'external', 'synthetic', `handler${resolved.outputExtension}`);
    await buildLike(resolved, projectRoot, syntheticBundled, { source: SYNTHETIC_SOURCE });
    await buildLike(resolved, projectRoot, syntheticExternal, { source: SYNTHETIC_SOURCE }, [SDK_EXTERNAL]);
    const synthetic = { bundled: await sizes(syntheticBundled), external: await sizes(syntheticExternal) };

    const stackPieces: Array<{ id: string; label: string; bundle: BuiltBundle }> = [];
    for (const piece of STACK_PIECES) {
      const out = join(workDir, 'bundled', 'stack', piece.id, `handler${resolved.outputExtension}`);
      await buildLike(resolved, projectRoot, out, { source: piece.source });
      stackPieces.push({ id: piece.id, label: piece.label, bundle: await sizes(out) });
    }
    const stackEnv = lambdaEnv(workDir, 'bench-stack', undefined, service.providerEnvironment);

    const stub = await startAwsJsonStub();
    const syntheticEnv = {
      ...lambdaEnv(workDir, 'bench-synthetic', undefined, service.providerEnvironment),
      AWS_ENDPOINT_URL: stub.url,
      BENCH_QUEUE_URL: `${stub.url}/000000000000/bench`,
    };

    const variants: InitVariant[] = [];
    const add = (id: string, bundle: string, exportName: string, env: Record<string, string>, invoke = false): void => {
      variants.push({ id, bundle, exportName, env, invoke });
    };
    for (const plan of plans) {
      add(`${plan.fn.key}:packaged`, plan.packaged.bundle, plan.exportName, plan.env);
      add(`${plan.fn.key}:twin`, plan.twin.bundle, 'handler', plan.env);
      const withoutSourceMaps = withoutSourceMapsEnv(plan.env);
      if (withoutSourceMaps) add(`${plan.fn.key}:no-source-maps`, plan.packaged.bundle, plan.exportName, withoutSourceMaps);
      if (plan.external) {
        add(`${plan.fn.key}:external`, plan.external.fn.bundle, plan.exportName, plan.env);
        add(`${plan.fn.key}:twin-external`, plan.external.twin.bundle, 'handler', plan.env);
      }
    }
    for (const piece of stackPieces) add(`stack:${piece.id}`, piece.bundle.bundle, 'handler', stackEnv);
    add('synthetic:bundled', synthetic.bundled.bundle, 'handler', syntheticEnv, true);
    add('synthetic:external', synthetic.external.bundle, 'handler', syntheticEnv, true);

    let samples: Map<string, InitSamples>;
    try {
      samples = await measureColdInits(variants, { workDir, runs: RUNS, warmups: WARMUPS, progress: context.progress });
    } finally {
      await stub.close();
    }
    const expectedStubCalls = 2 * 2 * (RUNS + WARMUPS);
    if (stub.requests() !== expectedStubCalls) {
      throw new Error(`the synthetic handlers made ${stub.requests()} SDK calls, expected ${expectedStubCalls}`);
    }
    const require = createRequire(join(projectRoot, 'package.json'));
    const sdkVersions = ['@aws-sdk/client-sqs', '@aws-sdk/client-secrets-manager']
      .map((pkg) => `${pkg} ${(require(`${pkg}/package.json`) as { version: string }).version}`)
      .join(', ');
    return render(context, service.packageMs, resolved, plans, { ...synthetic, sdkVersions }, samples, stackPieces);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function render(
  context: BenchContext,
  packageMs: number,
  resolved: ResolvedBuild,
  plans: readonly FunctionPlan[],
  synthetic: { bundled: BuiltBundle; external: BuiltBundle; sdkVersions: string },
  samples: Map<string, InitSamples>,
  stackPieces: ReadonlyArray<{ id: string; label: string; bundle: BuiltBundle }>,
): string {
  const { sdkVersions } = synthetic;
  const get = (id: string): Stats => statsOf(samples.get(id));
  const rows: string[][] = [];
  const goals: string[] = [];
  const notes: string[] = [];
  const row = (fnKey: string, variant: string, sdk: string, b: BuiltBundle, s: Stats, vsTwin?: Stats): void => {
    const ratioCell = vsTwin ? `${ratio(s.importP50 / vsTwin.importP50)} / ${ratio(s.wallP50 / vsTwin.wallP50)}` : '';
    rows.push([fnKey, variant, sdk, bytes(b.mjsBytes), bytes(b.mapBytes), zipCell(b), p50p90(s.importP50, s.importP90), p50p90(s.wallP50, s.wallP90), ratioCell]);
    for (const note of s.notes) notes.push(`\`${fnKey}\` (${variant}) ${note} in the benchmark's environment.`);
  };

  for (const plan of plans) {
    const key = plan.fn.key;
    const sdk = shortSdk(plan.sdkClients);
    const packaged = get(`${key}:packaged`);
    const twin = get(`${key}:twin`);
    row(`\`${key}\``, 'packaged (SDK bundled)', sdk, plan.packaged, packaged, twin);
    row(`\`${key}\``, 'bare twin (SDK bundled)', sdk, plan.twin, twin);
    if (samples.has(`${key}:no-source-maps`)) {
      row(`\`${key}\``, 'packaged, without --enable-source-maps', sdk, plan.packaged, get(`${key}:no-source-maps`), twin);
    }
    if (plan.external) {
      const ext = get(`${key}:external`);
      const extTwin = get(`${key}:twin-external`);
      row(`\`${key}\``, 'SDK external (runtime copy)', sdk, plan.external.fn, ext, extTwin);
      row(`\`${key}\``, 'bare twin (SDK external)', sdk, plan.external.twin, extTwin);
    }
    const verdict = (r: number, goal: number): string => (r <= goal ? `${ratio(r)}, within` : `**${ratio(r)}, over**`);
    goals.push(
      `- \`${key}\`: import ${verdict(packaged.importP50 / twin.importP50, RATIO_GOAL)} (+${ms(packaged.importP50 - twin.importP50)} over the twin); ` +
        `whole process ${verdict(packaged.wallP50 / twin.wallP50, PROCESS_RATIO_GOAL)}` +
        (plan.sdkClients.length === 0 ? ". No SDK client, so its twin is an empty handler and the import ratio is the function's own code over nothing" : ''),
    );
    if (plan.ownBuildBytes !== plan.packaged.mjsBytes) {
      notes.push(
        `\`${key}\`: the benchmark's own build with the resolved options is ${bytes(plan.ownBuildBytes)} against the packaged ${bytes(plan.packaged.mjsBytes)}; the twins may not match the packaging exactly.`,
      );
    }
  }

  const sb = get('synthetic:bundled');
  const se = get('synthetic:external');
  const syntheticRows = [
    ['SDK bundled', synthetic.bundled, sb],
    ['SDK external (runtime copy)', synthetic.external, se],
  ].map(([label, b, s]) => {
    const bundle = b as BuiltBundle;
    const st = s as Stats;
    return [
      label as string,
      bytes(bundle.mjsBytes),
      zipCell(bundle),
      p50p90(st.importP50, st.importP90),
      p50p90(st.invokeP50, st.invokeP90),
      ms(st.importP50 + st.invokeP50),
      p50p90(st.wallP50, st.wallP90),
    ];
  });
  const initBundled = sb.importP50 + sb.invokeP50;
  const initExternal = se.importP50 + se.invokeP50;
  const optionsLine = Object.entries(resolved.options)
    .filter(([k]) => k !== 'banner')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');

  context.progress('cold init: done');
  return [
    '## (b) Cold init per function, next to a bare twin',
    '',
    `Each function is packaged by \`osls package --stage example\` (serverless-esbuild; ${(packageMs / 1000).toFixed(1)} s) and its ` +
      'bundle unzipped. Its **bare twin** is a handler that imports only the AWS SDK clients the function pulls in (found in the ' +
      "esbuild metafile), built with the same options (from `custom.esbuild`: " +
      `${optionsLine}, plus the createRequire banner). ` +
      `Each bundle is started in ${RUNS} fresh \`node\` processes (after ${WARMUPS} discarded), round-robin across bundles, with the ` +
      "function's Lambda environment (including `NODE_OPTIONS=--enable-source-maps` when serverless.yml sets it). " +
      '**import** is `performance.now()` around `await import(bundle)` inside the child (Node\'s own boot excluded); **process** is the ' +
      'whole child process, spawn to exit, measured by the parent. Cells are median / p90. The ratio is function / twin, by median. ' +
      '"SDK external" leaves `@aws-sdk/*` out of the bundle and resolves it from node_modules, the way Lambda resolves its runtime copy. ' +
      '"without --enable-source-maps" is the packaged bundle started without that flag (its ratio is still to the twin with the flag). ' +
      'Sizes: `.mjs` and `.map` as built; zip is the deployed artifact, or (≈) the deflated `.mjs` + `.map`.',
    '',
    table(
      ['function', 'variant', 'SDK clients', '.mjs', '.map', 'zip', 'import p50 / p90', 'process p50 / p90', 'ratio to twin: import / process'],
      rows,
      ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `Init-time ratio of each packaged function to its bare twin, by median (goals: import at most ${RATIO_GOAL}x, whole process at most ${PROCESS_RATIO_GOAL}x):`,
    '',
    ...goals,
    '',
    (() => {
      const carrying = plans.filter((plan) => plan.genesysSdk).map((plan) => `\`${plan.fn.key}\``);
      return carrying.length === 0
        ? `The official Genesys SDK (\`purecloud-platform-client-v2\`, a devDependency the tests use as the oracle) is in none of the ${plans.length} bundles (each build's esbuild metafile lists no input from it), so it moves no bundle size.`
        : `**The official Genesys SDK is bundled into ${carrying.join(', ')}**: it is for tests and type checks only.`;
    })(),
    ...(notes.length ? ['', 'Notes:', '', ...notes.map((n) => `- ${n}`)] : []),
    '',
    ...stackSection(get, stackPieces),
    '### The AWS SDK: bundled or the runtime\'s copy',
    '',
    'A synthetic handler that imports `@aws-sdk/client-sqs` and `@aws-sdk/client-secrets-manager`, creates both clients at module ' +
      'scope and, when invoked, makes one `GetSecretValue` and one `SendMessageBatch` call to a local AWS JSON stub (so the first ' +
      "invocation's lazy SDK work, such as credential and endpoint resolution, is counted too). " +
      `Same esbuild options; ${RUNS} fresh processes each.`,
    '',
    table(
      ['variant', '.mjs', 'zip', 'import p50 / p90', 'first invocation p50 / p90', 'import + first invocation (p50)', 'process p50 / p90'],
      syntheticRows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `Import + first invocation: bundled ${ms(initBundled)}, external ${ms(initExternal)} ` +
      `(external / bundled = ${ratio(initExternal / initBundled)}). Whole process: bundled ${ms(sb.wallP50)}, external ${ms(se.wallP50)} ` +
      `(${ratio(se.wallP50 / sb.wallP50)}). The external variant loads the SDK installed in node_modules ` +
      `(${sdkVersions}); Lambda's runtime copy is another version on another file system, so treat that column as an estimate ` +
      'of the option, not a measurement of Lambda.',
  ].join('\n');
}

/** Benchmark (b), for bench/run.ts. */
export const coldInitBenchmark: Benchmark = { name: 'cold init', run };

/** The shared stack's pieces, each imported alone, as a ratio to the empty handler of the same run. */
function stackSection(get: (id: string) => Stats, pieces: ReadonlyArray<{ id: string; label: string; bundle: BuiltBundle }>): string[] {
  const empty = get('stack:empty');
  const rows = pieces.map((piece) => {
    const s = get(`stack:${piece.id}`);
    return [piece.label, bytes(piece.bundle.mjsBytes), p50p90(s.importP50, s.importP90), piece.id === 'empty' ? '' : ratio(s.importP50 / empty.importP50)];
  });
  const logger = get('stack:logger');
  return [
    '### What the shared stack costs to import, piece by piece',
    '',
    'Each piece of the stack every HTTP function shares (`lib/lambda/http.ts`, `lib/observability`), imported alone in a bundle of its own ' +
      `(same esbuild options, same ${RUNS} fresh processes, the provider's environment), next to an empty handler. ` +
      "A function with no SDK client has an empty handler as its twin, so its import ratio is the stack's cost over nothing: " +
      `within ${RATIO_GOAL}x would mean importing in ${ms(RATIO_GOAL * empty.importP50)} at most, while the Powertools Logger alone takes ${ms(logger.importP50)} ` +
      `(${ratio(logger.importP50 / empty.importP50)}).`,
    '',
    table(['piece', '.mjs', 'import p50 / p90', 'ratio to the empty handler'], rows, ['l', 'r', 'r', 'r']),
    '',
  ];
}
