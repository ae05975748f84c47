/**
 * A faithful in-memory model of a credential rotation for the property tests: Secrets
 * Manager's staging labels (AWSCURRENT, AWSPENDING, AWSPREVIOUS), a Genesys login and API
 * and a CRM that accept only the credentials installed upstream, and one clock. Every
 * answer goes through the fast-check scheduler twice (when the server handles the request,
 * when the answer arrives), so the property explores every order of reads, token requests,
 * API calls and rotation steps.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Scheduler } from 'fast-check';
import { notFound, secretOutput } from './support.ts';

type Value = Record<string, string>;

interface Version {
  value: Value;
  stages: Set<string>;
}

/** The clock, the secret's versions and what each upstream accepts. */
export class RotationWorld {
  time = 1_700_000_000_000;
  readonly versions: Version[];
  /** GetSecretValue calls, by version stage. */
  readonly reads: Record<string, number> = {};
  tokenRequests = 0;
  apiCalls = 0;

  constructor(
    private readonly scheduler: Scheduler,
    initial: Value,
  ) {
    this.versions = [{ value: initial, stages: new Set(['AWSCURRENT']) }];
  }

  /** Waits for the scheduler to let the server handle the request, then to deliver the answer. */
  async served<T>(label: string, handle: () => T): Promise<T> {
    await this.scheduler.schedule(Promise.resolve(), `${label} handled`);
    const answer = handle();
    await this.scheduler.schedule(Promise.resolve(), `${label} answered`);
    return answer;
  }

  /** The value a stage holds now, if any. */
  stage(stage: string): Value | undefined {
    return this.versions.find((v) => v.stages.has(stage))?.value;
  }

  /** Step 1 of a rotation: the new value is stored as AWSPENDING. */
  putPending(value: Value): void {
    for (const v of this.versions) v.stages.delete('AWSPENDING');
    this.versions.push({ value, stages: new Set(['AWSPENDING']) });
  }

  /** Step 3: AWSCURRENT moves to the pending version, AWSPREVIOUS to the one it left. */
  moveCurrent(): void {
    const pending = this.versions.find((v) => v.stages.has('AWSPENDING'));
    const current = this.versions.find((v) => v.stages.has('AWSCURRENT'));
    if (!pending || !current || pending === current) return;
    for (const v of this.versions) v.stages.delete('AWSPREVIOUS');
    current.stages.delete('AWSCURRENT');
    current.stages.add('AWSPREVIOUS');
    pending.stages.add('AWSCURRENT');
  }

  /** Step 4: the AWSPENDING label is removed. */
  removePending(): void {
    for (const v of this.versions) v.stages.delete('AWSPENDING');
  }

  /** Answers GetSecretValue from the model, through the scheduler. */
  serveSecretsManager(mock: AwsClientStub<SecretsManagerClient>): void {
    mock.on(GetSecretValueCommand).callsFake((input: { VersionStage?: string }) => {
      const stage = input.VersionStage ?? 'AWSCURRENT';
      return this.served(`GetSecretValue ${stage}`, () => {
        this.reads[stage] = (this.reads[stage] ?? 0) + 1;
        const value = this.stage(stage);
        if (!value) throw notFound(stage);
        return secretOutput(value, stage);
      });
    });
  }
}

/** A Genesys sandbox in memory: a login that accepts one client secret and an API that checks its tokens. */
export class GenesysUpstream {
  acceptedSecret: string;
  readonly tokens = new Map<string, number>();
  #issued = 0;

  constructor(
    private readonly world: RotationWorld,
    readonly clientId: string,
    secret: string,
    private readonly tokenTtlSeconds = 86_400,
  ) {
    this.acceptedSecret = secret;
  }

  /** Step 2: Genesys accepts only the new secret (and, like the sandbox can, revokes tokens). */
  switchTo(secret: string, revokeTokens: boolean): void {
    this.acceptedSecret = secret;
    if (revokeTokens) this.tokens.clear();
  }

  /** The `fetch` both the token provider and the Genesys client use. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const json = (status: number, body: unknown): Response =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (url.pathname === '/oauth/token') {
      return this.world.served('token request', () => {
        this.world.tokenRequests += 1;
        const basic = /^Basic (.+)$/.exec(headers.get('authorization') ?? '')?.[1] ?? '';
        const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':');
        if (id !== this.clientId || secret !== this.acceptedSecret) return json(401, { error: 'invalid_client' });
        this.#issued += 1;
        const token = `token-${this.#issued}`;
        this.tokens.set(token, this.world.time + this.tokenTtlSeconds * 1000);
        return json(200, { access_token: token, token_type: 'bearer', expires_in: this.tokenTtlSeconds });
      });
    }
    return this.world.served('API call', () => {
      this.world.apiCalls += 1;
      const token = /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1] ?? '';
      // Expiry is not checked: the provider hands out tokens with at least 60 s left and a
      // request is shorter, while the model's clock jumps by hours to force renewals.
      if (!this.tokens.has(token)) return json(401, { message: 'Unauthorized', status: 401 });
      return json(200, { id: url.pathname.split('/').pop(), name: 'web', status: 'Active' });
    });
  };
}

/** A CRM in memory that accepts one bearer token. */
export class CrmUpstream {
  constructor(
    private readonly world: RotationWorld,
    public acceptedToken: string,
  ) {}

  /** The `fetch` the CRM client uses: `GET /customers` answers 404 (no such customer) when authorised. */
  readonly fetch: typeof fetch = async (_input, init) => {
    const headers = new Headers(init?.headers);
    return this.world.served('CRM call', () => {
      this.world.apiCalls += 1;
      const token = /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1];
      return token === this.acceptedToken
        ? new Response(JSON.stringify([{ id: 'c-1', firstName: 'Ada' }]), { status: 200, headers: { 'content-type': 'application/json' } })
        : new Response(JSON.stringify({ title: 'Unauthorized', status: 401 }), { status: 401, headers: { 'content-type': 'application/problem+json' } });
    });
  };
}
