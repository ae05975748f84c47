import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { readSecretsFile, startLocalSecretsManager } from '#local/secrets-manager.ts';
import type { LocalSecretsManager } from '#local/secrets-manager.ts';
import { rejectionOf } from '#test/support/rejection.ts';

const GENESYS = 'genesys-guest-sync/local/genesys-credentials';
const WEBHOOK = 'genesys-guest-sync/local/webhook-signing-secret';

let manager: LocalSecretsManager;
let client: SecretsManagerClient;

beforeEach(async () => {
  manager = await startLocalSecretsManager({
    [GENESYS]: { clientId: 'local-client', clientSecret: 'local-client-secret' },
    [WEBHOOK]: { signingSecret: 'signing-v1' },
  });
  client = new SecretsManagerClient({
    endpoint: manager.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await manager.close();
});

describe('the local Secrets Manager endpoint', () => {
  it('listens on 127.0.0.1', () => {
    // Assess
    expect(new URL(manager.endpoint).hostname).toBe('127.0.0.1');
  });

  it('answers GetSecretValue with the secret as a JSON string, AWSCURRENT', async () => {
    // Act
    const result = await client.send(new GetSecretValueCommand({ SecretId: GENESYS }));

    // Assess
    expect(JSON.parse(result.SecretString ?? '')).toEqual({ clientId: 'local-client', clientSecret: 'local-client-secret' });
    expect(result.Name).toBe(GENESYS);
    expect(result.VersionStages).toEqual(['AWSCURRENT']);
    expect(result.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:genesys-guest-sync\/local\/genesys-credentials-.{6}$/);
    expect(result.CreatedDate).toBeInstanceOf(Date);
  });

  it('finds a secret by its ARN too', async () => {
    // Prepare
    const { ARN } = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));

    // Act
    const result = await client.send(new GetSecretValueCommand({ SecretId: ARN }));

    // Assess
    expect(result.Name).toBe(WEBHOOK);
  });

  it('answers ResourceNotFoundException for an unknown secret', async () => {
    // Act
    const error = await rejectionOf(client.send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })));

    // Assess
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe("Secrets Manager can't find the specified secret.");
  });

  it('answers ResourceNotFoundException for AWSPREVIOUS before any rotation', async () => {
    // Act
    const error = await rejectionOf(client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPREVIOUS' })));

    // Assess
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toContain('AWSPREVIOUS');
  });

  it('keeps the old value as AWSPREVIOUS after PutSecretValue (a rotation)', async () => {
    // Prepare
    const before = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));

    // Act
    const put = await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}' }));
    const current = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));
    const previous = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPREVIOUS' }));

    // Assess
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect(current.SecretString).toBe('{"signingSecret":"signing-v2"}');
    expect(current.VersionId).toBe(put.VersionId);
    expect(previous.SecretString).toBe('{"signingSecret":"signing-v1"}');
    expect(previous.VersionId).toBe(before.VersionId);
    expect(previous.VersionStages).toEqual(['AWSPREVIOUS']);
    expect(manager.current(WEBHOOK)).toEqual({ signingSecret: 'signing-v2' });
  });

  it('keeps only one version back: a second rotation retires the oldest', async () => {
    // Act
    await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}' }));
    await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v3"}' }));
    const previous = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPREVIOUS' }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: WEBHOOK }));

    // Assess
    expect(previous.SecretString).toBe('{"signingSecret":"signing-v2"}');
    expect(Object.values(described.VersionIdsToStages ?? {}).sort()).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
  });

  it('reads a version by its id', async () => {
    // Prepare
    const first = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));
    await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}' }));

    // Act
    const result = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionId: first.VersionId }));

    // Assess
    expect(result.SecretString).toBe('{"signingSecret":"signing-v1"}');
  });

  it('treats PutSecretValue with the same ClientRequestToken as one rotation', async () => {
    // Prepare
    const token = '5d0c2ae8-0000-4000-8000-00000000000a';
    const put = () =>
      client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}', ClientRequestToken: token }));

    // Act
    const first = await put();
    const retried = await put();
    const previous = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPREVIOUS' }));

    // Assess
    expect(first.VersionId).toBe(token);
    expect(retried.VersionId).toBe(token);
    expect(previous.SecretString).toBe('{"signingSecret":"signing-v1"}');
  });

  it('refuses the same ClientRequestToken with a different value', async () => {
    // Prepare
    const token = '5d0c2ae8-0000-4000-8000-00000000000b';
    await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"a"}', ClientRequestToken: token }));

    // Act
    const error = await rejectionOf(
      client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"b"}', ClientRequestToken: token })),
    );

    // Assess
    expect(error).toBeInstanceOf(ResourceExistsException);
    expect(manager.current(WEBHOOK)).toEqual({ signingSecret: 'a' });
  });

  describe('staging labels, as a rotation uses them', () => {
    const stagesOf = async (secretId: string): Promise<Record<string, string[]>> =>
      (await client.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};

    it('stores a version as AWSPENDING without touching AWSCURRENT or AWSPREVIOUS', async () => {
      // Prepare
      const v1 = (await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }))).VersionId as string;

      // Act
      const put = await client.send(
        new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}', VersionStages: ['AWSPENDING'] }),
      );
      const current = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));
      const pending = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPENDING' }));
      const previous = await rejectionOf(client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPREVIOUS' })));

      // Assess
      expect(put.VersionStages).toEqual(['AWSPENDING']);
      expect(current.SecretString).toBe('{"signingSecret":"signing-v1"}');
      expect(pending.SecretString).toBe('{"signingSecret":"signing-v2"}');
      expect(previous).toBeInstanceOf(ResourceNotFoundException);
      expect(await stagesOf(WEBHOOK)).toEqual({ [v1]: ['AWSCURRENT'], [put.VersionId as string]: ['AWSPENDING'] });
    });

    it('moves AWSCURRENT to the pending version and AWSPREVIOUS to the one it left', async () => {
      // Prepare
      const v1 = (await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }))).VersionId as string;
      const v2 = (
        await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}', VersionStages: ['AWSPENDING'] }))
      ).VersionId as string;

      // Act
      await client.send(new UpdateSecretVersionStageCommand({ SecretId: WEBHOOK, VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v1 }));
      const afterMove = await stagesOf(WEBHOOK);
      await client.send(new UpdateSecretVersionStageCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPENDING', RemoveFromVersionId: v2 }));
      const current = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));
      const previous = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPREVIOUS' }));

      // Assess
      expect(afterMove).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSPENDING', 'AWSCURRENT'] });
      expect(await stagesOf(WEBHOOK)).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
      expect(current.SecretString).toBe('{"signingSecret":"signing-v2"}');
      expect(previous.SecretString).toBe('{"signingSecret":"signing-v1"}');
    });

    it('reads a version by id and stage together only when they match', async () => {
      // Prepare
      const v1 = (await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }))).VersionId as string;

      // Act
      const matching = await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionId: v1, VersionStage: 'AWSCURRENT' }));
      const mismatch = await rejectionOf(client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionId: v1, VersionStage: 'AWSPENDING' })));

      // Assess
      expect(matching.SecretString).toBe('{"signingSecret":"signing-v1"}');
      expect(mismatch).toBeInstanceOf(ResourceNotFoundException);
    });

    it('refuses to move a label without naming the version that holds it, and changes nothing', async () => {
      // Prepare
      const v1 = (await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }))).VersionId as string;
      const v2 = (
        await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}', VersionStages: ['AWSPENDING'] }))
      ).VersionId as string;
      const before = await stagesOf(WEBHOOK);

      // Act
      const unnamed = await rejectionOf(client.send(new UpdateSecretVersionStageCommand({ SecretId: WEBHOOK, VersionStage: 'AWSCURRENT', MoveToVersionId: v2 })));
      const wrongHolder = await rejectionOf(
        client.send(new UpdateSecretVersionStageCommand({ SecretId: WEBHOOK, VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v2 })),
      );
      const removeCurrent = await rejectionOf(client.send(new UpdateSecretVersionStageCommand({ SecretId: WEBHOOK, VersionStage: 'AWSCURRENT', RemoveFromVersionId: v1 })));
      const unknownVersion = await rejectionOf(
        client.send(new UpdateSecretVersionStageCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPENDING', MoveToVersionId: '00000000-0000-4000-8000-000000000000', RemoveFromVersionId: v2 })),
      );

      // Assess
      expect(unnamed).toBeInstanceOf(InvalidParameterException);
      expect(wrongHolder).toBeInstanceOf(InvalidParameterException);
      expect(removeCurrent).toBeInstanceOf(InvalidParameterException);
      expect(unknownVersion).toBeInstanceOf(ResourceNotFoundException);
      expect(await stagesOf(WEBHOOK)).toEqual(before);
    });

    it('counts reads per version stage', async () => {
      // Prepare
      await client.send(new PutSecretValueCommand({ SecretId: WEBHOOK, SecretString: '{"signingSecret":"signing-v2"}', VersionStages: ['AWSPENDING'] }));

      // Act
      await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));
      await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPENDING' }));
      await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPENDING' }));

      // Assess
      expect(manager.readsByStage()[WEBHOOK]).toEqual({ AWSCURRENT: 1, AWSPENDING: 2 });
    });
  });

  it('refuses PutSecretValue on an unknown secret', async () => {
    // Act
    const error = await rejectionOf(client.send(new PutSecretValueCommand({ SecretId: 'no/such/secret', SecretString: '{}' })));

    // Assess
    expect(error).toBeInstanceOf(ResourceNotFoundException);
  });

  it('counts successful GetSecretValue reads per secret', async () => {
    // Act
    const before = manager.reads();
    await client.send(new GetSecretValueCommand({ SecretId: GENESYS }));
    await client.send(new GetSecretValueCommand({ SecretId: GENESYS }));
    await client.send(new GetSecretValueCommand({ SecretId: WEBHOOK }));
    await rejectionOf(client.send(new GetSecretValueCommand({ SecretId: WEBHOOK, VersionStage: 'AWSPREVIOUS' })));
    await rejectionOf(client.send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })));
    await client.send(new DescribeSecretCommand({ SecretId: GENESYS }));

    // Assess
    expect(before).toEqual({});
    expect(manager.reads()).toEqual({ [GENESYS]: 2, [WEBHOOK]: 1 });
  });

  it('hands out a copy of the counts', async () => {
    // Prepare
    await client.send(new GetSecretValueCommand({ SecretId: GENESYS }));

    // Act
    manager.reads()[GENESYS] = 99;

    // Assess
    expect(manager.reads()).toEqual({ [GENESYS]: 1 });
  });

  it('gives the stack its own parsed copy of a current secret, and undefined for an unknown one', () => {
    // Assess
    expect(manager.current(GENESYS)).toEqual({ clientId: 'local-client', clientSecret: 'local-client-secret' });
    expect(manager.current('no/such/secret')).toBeUndefined();
  });
});

describe('readSecretsFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secrets-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fileHolding = async (content: string): Promise<string> => {
    const path = join(dir, 'secrets.json');
    await writeFile(path, content, 'utf8');
    return path;
  };

  it('reads an object of secret id -> secret object', async () => {
    // Prepare
    const path = await fileHolding(JSON.stringify({ [WEBHOOK]: { signingSecret: 'x' } }));

    // Act
    const secrets = await readSecretsFile(path);

    // Assess
    expect(secrets).toEqual({ [WEBHOOK]: { signingSecret: 'x' } });
  });

  it.each([
    ['an array', '[]', 'must hold a JSON object of secret id -> secret object'],
    ['null', 'null', 'must hold a JSON object of secret id -> secret object'],
    ['a string secret', '{"a/b":"plain"}', 'secret "a/b" must be a JSON object'],
    ['an array secret', '{"a/b":[1]}', 'secret "a/b" must be a JSON object'],
  ])('refuses %s, naming the file', async (_case, content, message) => {
    // Prepare
    const path = await fileHolding(content);

    // Act
    const result = readSecretsFile(path);

    // Assess
    await expect(result).rejects.toThrow(message);
    await expect(readSecretsFile(path)).rejects.toThrow(path);
  });

  it('reads the sample that ships with the project', async () => {
    // Act
    const secrets = await readSecretsFile(new URL('../../../local/secrets.sample.json', import.meta.url).pathname);

    // Assess
    expect(Object.keys(secrets).sort()).toEqual([
      'genesys-guest-sync/local/crm-credentials',
      'genesys-guest-sync/local/genesys-credentials',
      'genesys-guest-sync/local/identity-salt',
      'genesys-guest-sync/local/webhook-signing-secret',
    ]);
  });
});
