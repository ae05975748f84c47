/**
 * The local Secrets Manager endpoint. No maintained emulator exists on npm, so this
 * serves the AWS JSON 1.1 protocol for the calls the suite makes (GetSecretValue,
 * PutSecretValue, DescribeSecret) from LOCAL_SECRETS_FILE, with version stages
 * (AWSCURRENT, AWSPREVIOUS) so rotation behaves as in AWS. Function code points at it
 * through AWS_ENDPOINT_URL_SECRETS_MANAGER and has no local-only branch.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from './ports.ts';

interface SecretVersion {
  versionId: string;
  secretString: string;
  stages: Set<string>;
  createdDate: number;
}

interface StoredSecret {
  name: string;
  arn: string;
  versions: SecretVersion[];
}

/** A running local Secrets Manager. */
export interface LocalSecretsManager {
  endpoint: string;
  /** The current value of a secret, parsed (for the stack's own wiring, never logged). */
  current(secretId: string): Record<string, unknown> | undefined;
  /** Reads of GetSecretValue so far, by secret id (tests use it to prove caching). */
  reads(): Record<string, number>;
  close(): Promise<void>;
}

/** Reads a secrets file: a JSON object of secret id -> secret object. */
export async function readSecretsFile(path: string): Promise<Record<string, Record<string, unknown>>> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path} must hold a JSON object of secret id -> secret object`);
  }
  for (const [id, value] of Object.entries(parsed)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`${path}: secret "${id}" must be a JSON object`);
    }
  }
  return parsed as Record<string, Record<string, unknown>>;
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/** Starts the endpoint on 127.0.0.1 with the given secrets as their AWSCURRENT versions. */
export async function startLocalSecretsManager(
  secrets: Record<string, Record<string, unknown>>,
  port = 0,
): Promise<LocalSecretsManager> {
  const store = new Map<string, StoredSecret>();
  const readCounts: Record<string, number> = {};
  const addVersion = (name: string, secretString: string, versionId: string = randomUUID()): SecretVersion => {
    let secret = store.get(name);
    if (!secret) {
      secret = { name, arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`, versions: [] };
      store.set(name, secret);
    }
    for (const version of secret.versions) {
      version.stages.delete('AWSPREVIOUS');
      if (version.stages.delete('AWSCURRENT')) version.stages.add('AWSPREVIOUS');
    }
    const version: SecretVersion = { versionId, secretString, stages: new Set(['AWSCURRENT']), createdDate: Date.now() / 1000 };
    secret.versions.push(version);
    return version;
  };
  for (const [name, value] of Object.entries(secrets)) addVersion(name, JSON.stringify(value));

  const find = (secretId: unknown): StoredSecret => {
    if (typeof secretId !== 'string' || secretId === '') throw new AwsError('InvalidParameterException', 'SecretId is required');
    const secret = store.get(secretId) ?? [...store.values()].find((s) => s.arn === secretId);
    if (!secret) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue: (input) => {
      const secret = find(input['SecretId']);
      const stage = typeof input['VersionStage'] === 'string' ? input['VersionStage'] : undefined;
      const versionId = typeof input['VersionId'] === 'string' ? input['VersionId'] : undefined;
      const version = secret.versions.find((v) =>
        versionId ? v.versionId === versionId : v.stages.has(stage ?? 'AWSCURRENT'),
      );
      if (!version) {
        throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: " + (stage ?? versionId));
      }
      readCounts[secret.name] = (readCounts[secret.name] ?? 0) + 1;
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        SecretString: version.secretString,
        VersionStages: [...version.stages],
        CreatedDate: version.createdDate,
      };
    },
    PutSecretValue: (input) => {
      const secret = find(input['SecretId']);
      if (typeof input['SecretString'] !== 'string') throw new AwsError('InvalidParameterException', 'SecretString is required');
      const token = typeof input['ClientRequestToken'] === 'string' ? input['ClientRequestToken'] : undefined;
      const existing = token ? secret.versions.find((v) => v.versionId === token) : undefined;
      if (existing) {
        if (existing.secretString !== input['SecretString']) {
          throw new AwsError('ResourceExistsException', 'A version with this ClientRequestToken already exists with a different value.');
        }
        return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: [...existing.stages] };
      }
      const version = addVersion(secret.name, input['SecretString'], token);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
    },
    DescribeSecret: (input) => {
      const secret = find(input['SecretId']);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionIdsToStages: Object.fromEntries(secret.versions.filter((v) => v.stages.size > 0).map((v) => [v.versionId, [...v.stages]])),
      };
    },
  };

  const respond = (res: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('secretsmanager.') ? actions[target.slice('secretsmanager.'.length)] : undefined;
    if (req.method !== 'POST' || !action) {
      respond(res, 400, { __type: 'UnknownOperationException', message: `Unsupported operation ${target}` }, 'UnknownOperationException');
      return;
    }
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      respond(res, 200, action(input));
    } catch (error) {
      const type = error instanceof AwsError ? error.type : 'InvalidRequestException';
      const message = error instanceof Error ? error.message : 'Invalid request';
      respond(res, 400, { __type: type, message }, type);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => respond(res, 500, { __type: 'InternalServiceError', message: 'internal error' }));
  });
  // A port already taken rejects with a PortInUseError naming it, instead of an unhandled 'error' event.
  await listenOnLoopback(server, port, 'Secrets Manager');
  const { port: actualPort } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${actualPort}`,
    current: (secretId) => {
      const version = store.get(secretId)?.versions.find((v) => v.stages.has('AWSCURRENT'));
      return version ? (JSON.parse(version.secretString) as Record<string, unknown>) : undefined;
    },
    reads: () => ({ ...readCounts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
