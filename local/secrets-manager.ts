/**
 * The local Secrets Manager endpoint. No maintained emulator exists on npm, so this
 * serves the AWS JSON 1.1 protocol for the calls the suite makes (GetSecretValue,
 * PutSecretValue, UpdateSecretVersionStage, DescribeSecret) from LOCAL_SECRETS_FILE, with
 * staging labels as in AWS (AWSCURRENT, AWSPREVIOUS, AWSPENDING and custom ones) so a
 * rotation, its gap and a failed rotation can be played locally. Function code points at
 * it through AWS_ENDPOINT_URL_SECRETS_MANAGER and has no local-only branch.
 *
 * Labels follow the API reference: each label sits on at most one version; moving
 * AWSCURRENT (PutSecretValue without VersionStages, or UpdateSecretVersionStage) moves
 * AWSPREVIOUS to the version it left; a version left without labels is deprecated (never
 * listed, still readable by id, like AWS until it deletes it).
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
  /** Reads of GetSecretValue so far, by secret id and version stage (`AWSCURRENT` for a read by id). */
  readsByStage(): Record<string, Record<string, number>>;
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
  const stageReadCounts: Record<string, Record<string, number>> = {};

  /** Puts `label` on `target` alone; moving AWSCURRENT moves AWSPREVIOUS to the version it left. */
  const attach = (secret: StoredSecret, label: string, target: SecretVersion): void => {
    const holder = secret.versions.find((v) => v.stages.has(label));
    if (holder === target) return;
    holder?.stages.delete(label);
    target.stages.add(label);
    if (label === 'AWSCURRENT' && holder) {
      for (const version of secret.versions) version.stages.delete('AWSPREVIOUS');
      holder.stages.add('AWSPREVIOUS');
    }
  };

  const addVersion = (name: string, secretString: string, versionId: string = randomUUID(), stages: string[] = ['AWSCURRENT']): SecretVersion => {
    let secret = store.get(name);
    if (!secret) {
      secret = { name, arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`, versions: [] };
      store.set(name, secret);
    }
    const version: SecretVersion = { versionId, secretString, stages: new Set(), createdDate: Date.now() / 1000 };
    secret.versions.push(version);
    for (const label of stages) attach(secret, label, version);
    // AWS keeps about 100 versions; deprecated ones (no label) beyond that go first.
    while (secret.versions.length > 100) {
      const index = secret.versions.findIndex((v) => v.stages.size === 0);
      if (index < 0) break;
      secret.versions.splice(index, 1);
    }
    return version;
  };
  for (const [name, value] of Object.entries(secrets)) addVersion(name, JSON.stringify(value));

  const find = (secretId: unknown): StoredSecret => {
    if (typeof secretId !== 'string' || secretId === '') throw new AwsError('InvalidParameterException', 'SecretId is required');
    const secret = store.get(secretId) ?? [...store.values()].find((s) => s.arn === secretId);
    if (!secret) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };
  const optionalString = (input: Record<string, unknown>, field: string): string | undefined => {
    const value = input[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '') throw new AwsError('InvalidParameterException', `${field} must be a non-empty string`);
    return value;
  };
  const versionById = (secret: StoredSecret, versionId: string, field: string): SecretVersion => {
    const version = secret.versions.find((v) => v.versionId === versionId);
    if (!version) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version (${field}).`);
    return version;
  };

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue: (input) => {
      const secret = find(input['SecretId']);
      const stage = optionalString(input, 'VersionStage');
      const versionId = optionalString(input, 'VersionId');
      const version = versionId
        ? secret.versions.find((v) => v.versionId === versionId && (stage === undefined || v.stages.has(stage)))
        : secret.versions.find((v) => v.stages.has(stage ?? 'AWSCURRENT'));
      if (!version) {
        throw new AwsError(
          'ResourceNotFoundException',
          versionId
            ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}${stage ? ` and staging label: ${stage}` : ''}`
            : `Secrets Manager can't find the specified secret value for staging label: ${stage ?? 'AWSCURRENT'}`,
        );
      }
      readCounts[secret.name] = (readCounts[secret.name] ?? 0) + 1;
      const byStage = (stageReadCounts[secret.name] ??= {});
      const counted = stage ?? (versionId ? 'VersionId' : 'AWSCURRENT');
      byStage[counted] = (byStage[counted] ?? 0) + 1;
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
      const secretString = input['SecretString'];
      const token = optionalString(input, 'ClientRequestToken');
      if (token !== undefined && (token.length < 32 || token.length > 64)) {
        throw new AwsError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters long');
      }
      const rawStages = input['VersionStages'];
      if (
        rawStages !== undefined &&
        (!Array.isArray(rawStages) || rawStages.length === 0 || rawStages.length > 20 || !rawStages.every((l) => typeof l === 'string' && l.length > 0 && l.length <= 256))
      ) {
        throw new AwsError('InvalidParameterException', 'VersionStages must be a list of 1 to 20 staging labels');
      }
      const stages = (rawStages as string[] | undefined) ?? ['AWSCURRENT'];
      const existing = token ? secret.versions.find((v) => v.versionId === token) : undefined;
      if (existing) {
        // A repeat of the same request changes nothing; the same token with another value is refused.
        if (existing.secretString !== secretString) {
          throw new AwsError('ResourceExistsException', 'A resource with the ID you requested already exists.');
        }
        return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: [...existing.stages] };
      }
      const version = addVersion(secret.name, secretString, token, stages);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
    },
    UpdateSecretVersionStage: (input) => {
      const secret = find(input['SecretId']);
      const label = optionalString(input, 'VersionStage');
      if (label === undefined) throw new AwsError('InvalidParameterException', 'VersionStage is required');
      const moveTo = optionalString(input, 'MoveToVersionId');
      const removeFrom = optionalString(input, 'RemoveFromVersionId');
      const target = moveTo === undefined ? undefined : versionById(secret, moveTo, 'MoveToVersionId');
      const holder = secret.versions.find((v) => v.stages.has(label));
      if (removeFrom !== undefined) {
        const from = versionById(secret, removeFrom, 'RemoveFromVersionId');
        if (!from.stages.has(label)) {
          throw new AwsError('InvalidParameterException', `The staging label ${label} is not attached to version ${removeFrom}.`);
        }
      }
      if (target === undefined && removeFrom === undefined) {
        throw new AwsError('InvalidParameterException', 'Specify MoveToVersionId, RemoveFromVersionId or both.');
      }
      if (target !== undefined && holder !== undefined && holder !== target && holder.versionId !== removeFrom) {
        throw new AwsError(
          'InvalidParameterException',
          `The staging label ${label} is currently attached to version ${holder.versionId}; specify that version as RemoveFromVersionId to move it.`,
        );
      }
      if (target === undefined && label === 'AWSCURRENT') {
        throw new AwsError('InvalidParameterException', 'You can only move AWSCURRENT to another version, not remove it.');
      }
      if (target !== undefined) {
        if (!target.stages.has(label) && target.stages.size >= 20) {
          throw new AwsError('LimitExceededException', 'A version can have at most 20 staging labels.');
        }
        attach(secret, label, target);
      } else {
        holder?.stages.delete(label);
      }
      return { ARN: secret.arn, Name: secret.name };
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
    readsByStage: () => Object.fromEntries(Object.entries(stageReadCounts).map(([name, counts]) => [name, { ...counts }])),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
