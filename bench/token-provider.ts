/**
 * Benchmark (a): the shared token provider (`GenesysTokenProvider` + `SecretCache`) against
 * the seed-style provider (a plain cache without single flight), 1,000 concurrent callers
 * per phase, across one token refresh. Both use the real AWS SDK against the local Secrets
 * Manager and a counting token endpoint on 127.0.0.1 with a small latency; time is an
 * injected clock, so "an hour later" takes no real time.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GenesysTokenProvider, SecretCache, TOKEN_EXPIRY_BUFFER_MS } from '#lib/auth';
import { startLocalSecretsManager } from '#local/secrets-manager.ts';
import { table, ms } from './support/markdown.ts';
import { SeedStyleTokenProvider } from './support/seed-token-provider.ts';
import { startCountingTokenServer } from './support/token-server.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

const CALLS_PER_PHASE = 1_000;
const TOKEN_TTL_SECONDS = 3_600;
const TOKEN_LATENCY_MS = 20;
const SECRET_ID = 'bench/genesys-credentials';
const CREDENTIALS = { clientId: 'bench-client', clientSecret: 'bench-secret' };

interface Phase {
  label: string;
  /** Milliseconds after the cold start at which the phase's callers arrive. */
  at: number;
  /** Token requests (and secret reads) single flight should make: one per refresh, none when warm. */
  expected: number;
}

const REFRESH_POINT_MS = TOKEN_TTL_SECONDS * 1000 - TOKEN_EXPIRY_BUFFER_MS;
const PHASES: readonly Phase[] = [
  { label: 'cold start', at: 0, expected: 1 },
  { label: 'warm, +30 min (within token lifetime)', at: 30 * 60_000, expected: 0 },
  { label: `past the refresh point (+${REFRESH_POINT_MS / 60_000} min 1 s)`, at: REFRESH_POINT_MS + 1_000, expected: 1 },
];

interface PhaseResult {
  tokenRequests: number;
  secretReads: number;
  failures: number;
  distinctTokens: number;
  wallMs: number;
}

type ProviderKind = 'seed-style' | 'shared provider';

/** Runs every phase against one provider, with its own fresh servers and SDK client. */
async function runProvider(kind: ProviderKind): Promise<PhaseResult[]> {
  const secrets = await startLocalSecretsManager({ [SECRET_ID]: CREDENTIALS });
  const tokens = await startCountingTokenServer({ ...CREDENTIALS, tokenTtlSeconds: TOKEN_TTL_SECONDS, latencyMs: TOKEN_LATENCY_MS });
  // The real SDK client, pointed at the local endpoint explicitly (no process.env changes).
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: secrets.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const start = Date.parse('2030-01-01T00:00:00Z');
  let clock = start;
  const now = (): number => clock;
  const provider =
    kind === 'seed-style'
      ? new SeedStyleTokenProvider({ client, secretId: SECRET_ID, loginBaseUrl: tokens.url, now })
      : new GenesysTokenProvider({
          secrets: new SecretCache({ client, now }),
          secretId: SECRET_ID,
          loginBaseUrl: tokens.url,
          now,
        });
  const secretReads = (): number => secrets.reads()[SECRET_ID] ?? 0;

  const results: PhaseResult[] = [];
  try {
    for (const phase of PHASES) {
      clock = start + phase.at;
      const requestsBefore = tokens.issued() + tokens.refused();
      const readsBefore = secretReads();
      const began = performance.now();
      const settled = await Promise.allSettled(Array.from({ length: CALLS_PER_PHASE }, () => provider.getToken()));
      const wallMs = performance.now() - began;
      const values = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      results.push({
        tokenRequests: tokens.issued() + tokens.refused() - requestsBefore,
        secretReads: secretReads() - readsBefore,
        failures: settled.length - values.length,
        distinctTokens: new Set(values).size,
        wallMs,
      });
    }
  } finally {
    client.destroy();
    await Promise.all([secrets.close(), tokens.close()]);
  }
  return results;
}

async function run(context: BenchContext): Promise<string> {
  context.progress(`token provider: seed-style, ${PHASES.length} phases x ${CALLS_PER_PHASE} calls`);
  const seed = await runProvider('seed-style');
  context.progress(`token provider: shared provider, ${PHASES.length} phases x ${CALLS_PER_PHASE} calls`);
  const shared = await runProvider('shared provider');

  const rows = PHASES.map((phase, i) => {
    const s = seed[i] as PhaseResult;
    const p = shared[i] as PhaseResult;
    return [
      phase.label,
      String(s.tokenRequests),
      String(p.tokenRequests),
      String(s.secretReads),
      String(p.secretReads),
      `${s.distinctTokens} / ${p.distinctTokens}`,
      `${s.failures} / ${p.failures}`,
      `${ms(s.wallMs)} / ${ms(p.wallMs)}`,
    ];
  });
  const sum = (list: PhaseResult[], key: 'tokenRequests' | 'secretReads'): number => list.reduce((acc, r) => acc + r[key], 0);
  rows.push([
    '**total**',
    `**${sum(seed, 'tokenRequests')}**`,
    `**${sum(shared, 'tokenRequests')}**`,
    `**${sum(seed, 'secretReads')}**`,
    `**${sum(shared, 'secretReads')}**`,
    '',
    '',
    '',
  ]);

  const met = shared.every((r, i) => {
    const { expected } = PHASES[i] as Phase;
    return r.tokenRequests === expected && r.secretReads === expected && r.failures === 0;
  });
  return [
    '## (a) Token provider: single flight vs the seed-style cache',
    '',
    `${CALLS_PER_PHASE.toLocaleString('en-US')} concurrent \`getToken()\` calls per phase. Tokens live ${TOKEN_TTL_SECONDS} s and are ` +
      `replaced ${TOKEN_EXPIRY_BUFFER_MS / 1000} s before expiry; the token endpoint (127.0.0.1) answers after ${TOKEN_LATENCY_MS} ms. ` +
      'Secret reads are `GetSecretValue` calls counted by the local Secrets Manager, made by the real AWS SDK client. ' +
      'Time between phases is an injected clock. "Seed-style" is the seed\'s `if (token && now < expiry - 60 s) return token; ' +
      'else fetch` with the secret read on each refresh and no single flight (bench/support/seed-token-provider.ts); ' +
      '"shared" is `GenesysTokenProvider` with `SecretCache` from lib/auth.',
    '',
    table(
      [
        'phase',
        'token requests, seed-style',
        'token requests, shared',
        'secret reads, seed-style',
        'secret reads, shared',
        'distinct tokens handed out (seed / shared)',
        'failed calls (seed / shared)',
        'phase wall time (seed / shared)',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    met
      ? 'Goal met: with single flight, each token refresh (cold start and past the refresh point) made exactly one token request and one secret read for all 1,000 callers, and the warm phase made none.'
      : '**Goal NOT met**: the shared provider did not make exactly one token request and one secret read per refresh (see the table).',
  ].join('\n');
}

/** Benchmark (a), for bench/run.ts. */
export const tokenProviderBenchmark: Benchmark = { name: 'token provider', run };
