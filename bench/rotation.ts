/**
 * Benchmark: Genesys requests across a credential rotation WITH its gap. The real token
 * provider (`GenesysTokenProvider` + `SecretCache`, 5-minute cache) and the real
 * `GenesysClient` send 1,200 requests, 50 in flight, to the sandbox Genesys, reading the
 * client secret from the local Secrets Manager through the real AWS SDK, all on 127.0.0.1.
 * While they run, the secret rotates the AWS way:
 *
 * 1. the new client secret is stored as AWSPENDING;
 * 2. the sandbox Genesys accepts only the new secret and revokes every token (the gap:
 *    Secrets Manager still serves the old secret as AWSCURRENT, the container's cache too);
 * 3. AWSCURRENT moves to the new version (AWSPREVIOUS to the old);
 * 4. the AWSPENDING label is removed.
 *
 * Each step happens when a set number of requests has finished. Counted: failed requests
 * (goal 0), token requests (accepted / refused) and GetSecretValue calls by stage. The same
 * run is repeated with the provider as it was before rotation handling
 * (support/pre-rotation-token-provider.ts), on the same secret cache, side by side.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GenesysTokenProvider, SecretCache, type TokenProvider } from '#lib/auth';
import { GenesysClient, genesysOperations } from '#lib/genesys';
import { startGenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { startLocalSecretsManager } from '#local/secrets-manager.ts';
import { table } from './support/markdown.ts';
import { PreRotationTokenProvider } from './support/pre-rotation-token-provider.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

const REQUESTS = 1_200;
const IN_FLIGHT = 50;
const SECRET_ID = 'bench/genesys-credentials';
const CLIENT_ID = 'bench-client';
const OLD_SECRET = 'bench-secret-old';
const NEW_SECRET = 'bench-secret-new';
/** Finished requests at which each rotation step happens (the gap lasts from step 2 to step 3). */
const STEPS = { putPending: 200, upstreamSwitch: 300, moveCurrent: 700, removePending: 800 } as const;

type ProviderKind = 'rotation-aware (lib/auth)' | 'before rotation handling';

interface RunResult {
  failed: number;
  failedInGap: number;
  tokenRequests: number;
  tokensRefused: number;
  secretReads: Record<string, number>;
  wallMs: number;
}

/** One whole run: fresh Secrets Manager, sandbox and provider. */
async function runOnce(kind: ProviderKind): Promise<RunResult> {
  const secrets = await startLocalSecretsManager({ [SECRET_ID]: { clientId: CLIENT_ID, clientSecret: OLD_SECRET } });
  const genesys = await startGenesysSandboxV2({ clients: [{ clientId: CLIENT_ID, clientSecret: OLD_SECRET }] });
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: secrets.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  let tokenRequests = 0;
  let tokensRefused = 0;
  const countingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (String(input).endsWith('/oauth/token')) {
      tokenRequests += 1;
      if (response.status === 400 || response.status === 401) tokensRefused += 1;
    }
    return response;
  };
  const options = { secrets: new SecretCache({ client }), secretId: SECRET_ID, loginBaseUrl: genesys.url, fetch: countingFetch };
  const tokens: TokenProvider = kind === 'rotation-aware (lib/auth)' ? new GenesysTokenProvider(options) : new PreRotationTokenProvider(options);
  const api = new GenesysClient({ apiBaseUrl: genesys.url, tokens, fetch: countingFetch });

  let pendingVersion = '';
  const rotationSteps: Array<[number, () => Promise<void>]> = [
    [
      STEPS.putPending,
      async () => {
        const put = await client.send(
          new PutSecretValueCommand({
            SecretId: SECRET_ID,
            SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: NEW_SECRET }),
            VersionStages: ['AWSPENDING'],
          }),
        );
        pendingVersion = put.VersionId ?? '';
      },
    ],
    [
      STEPS.upstreamSwitch,
      async () => {
        const answer = await fetch(`${genesys.url}/__sandbox/clients`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ clients: [{ clientId: CLIENT_ID, clientSecret: NEW_SECRET }], revokeTokens: true }),
        });
        await answer.arrayBuffer();
      },
    ],
    [
      STEPS.moveCurrent,
      async () => {
        const stages = (await client.send(new DescribeSecretCommand({ SecretId: SECRET_ID }))).VersionIdsToStages ?? {};
        const current = Object.entries(stages).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
        await client.send(
          new UpdateSecretVersionStageCommand({ SecretId: SECRET_ID, VersionStage: 'AWSCURRENT', MoveToVersionId: pendingVersion, RemoveFromVersionId: current }),
        );
      },
    ],
    [
      STEPS.removePending,
      async () => {
        await client.send(new UpdateSecretVersionStageCommand({ SecretId: SECRET_ID, VersionStage: 'AWSPENDING', RemoveFromVersionId: pendingVersion }));
      },
    ],
  ];

  try {
    // A warm container: the old secret and a token are cached before the rotation.
    await api.call(genesysOperations.getWebDeployment, { params: { deploymentId: randomUUID() } });
    const readsBefore = { ...(secrets.readsByStage()[SECRET_ID] ?? {}) };
    const tokensBefore = tokenRequests;

    let started = 0;
    let finished = 0;
    let failed = 0;
    let failedInGap = 0;
    let inGap = false;
    let nextStep = 0;
    let stepChain = Promise.resolve();
    const began = performance.now();
    const worker = async (): Promise<void> => {
      while (started < REQUESTS) {
        started += 1;
        try {
          await api.call(genesysOperations.getWebDeployment, { params: { deploymentId: randomUUID() } });
        } catch {
          failed += 1;
          if (inGap) failedInGap += 1;
        }
        finished += 1;
        // Rotation steps run in order, each once, while requests keep flowing.
        while (nextStep < rotationSteps.length && finished >= (rotationSteps[nextStep] as [number, () => Promise<void>])[0]) {
          const [at, step] = rotationSteps[nextStep] as [number, () => Promise<void>];
          nextStep += 1;
          stepChain = stepChain.then(async () => {
            await step();
            if (at === STEPS.upstreamSwitch) inGap = true;
            if (at === STEPS.moveCurrent) inGap = false;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
    await stepChain;
    const wallMs = performance.now() - began;

    const after = secrets.readsByStage()[SECRET_ID] ?? {};
    const secretReads = Object.fromEntries(
      Object.entries(after).map(([stage, count]) => [stage, count - (readsBefore[stage] ?? 0)]),
    );
    return { failed, failedInGap, tokenRequests: tokenRequests - tokensBefore, tokensRefused, secretReads, wallMs };
  } finally {
    client.destroy();
    await Promise.all([secrets.close(), genesys.close()]);
  }
}

async function run(context: BenchContext): Promise<string> {
  const kinds: ProviderKind[] = ['rotation-aware (lib/auth)', 'before rotation handling'];
  const results: RunResult[] = [];
  for (const kind of kinds) {
    context.progress(`rotation: ${kind}, ${REQUESTS} requests, ${IN_FLIGHT} in flight`);
    results.push(await runOnce(kind));
  }
  const reads = (r: RunResult, stage: string): string => String(r.secretReads[stage] ?? 0);
  const rows = kinds.map((kind, i) => {
    const r = results[i] as RunResult;
    return [
      kind,
      String(REQUESTS),
      `**${r.failed}**`,
      String(r.failedInGap),
      `${r.tokenRequests} (${r.tokensRefused} refused)`,
      reads(r, 'AWSCURRENT'),
      reads(r, 'AWSPENDING'),
      `${(r.wallMs / 1000).toFixed(2)} s`,
    ];
  });
  const ours = results[0] as RunResult;
  return [
    '## Credential rotation with the gap: requests lost',
    '',
    `${REQUESTS.toLocaleString('en-US')} \`GenesysClient.getWebDeployment\` calls, ${IN_FLIGHT} in flight, through the token provider ` +
      '(5-minute secret cache, warm: the old secret and a token cached) to the sandbox Genesys, with the client secret in the ' +
      'local Secrets Manager read by the real AWS SDK, all on 127.0.0.1. After ' +
      `${STEPS.putPending} finished requests the new secret is stored as AWSPENDING; after ${STEPS.upstreamSwitch} the sandbox ` +
      'accepts only the new secret and revokes every token (the gap: AWSCURRENT still holds the old one); after ' +
      `${STEPS.moveCurrent} AWSCURRENT moves; after ${STEPS.removePending} AWSPENDING is removed. "Before rotation handling" ` +
      'is the provider of commit 7dba3f7 (support/pre-rotation-token-provider.ts) on the same secret cache.',
    '',
    table(
      ['provider', 'requests', 'failed', 'failed in the gap', 'token requests', 'secret reads, AWSCURRENT', 'secret reads, AWSPENDING', 'wall time'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    ours.failed === 0
      ? `Goal met: 0 of ${REQUESTS.toLocaleString('en-US')} requests failed across the rotation and its gap.`
      : `**Goal NOT met**: ${ours.failed} of ${REQUESTS.toLocaleString('en-US')} requests failed across the rotation.`,
  ].join('\n');
}

/** The rotation benchmark, for bench/run.ts. */
export const rotationBenchmark: Benchmark = { name: 'credential rotation', run };
