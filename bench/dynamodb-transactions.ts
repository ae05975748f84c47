/**
 * Benchmark: the embedded DynamoDB's TransactWriteItems (local/dynamodb-transactions.ts) with
 * 100 conditional Puts, against 100 parallel conditional PutItem calls, and a 100-action
 * transaction cancelled by its last action (every applied Put undone). All through the real
 * AWS SDK client; the embedded server runs in a child process, so the client's CPU
 * (process.cpuUsage of this process) and the server's (the child's) are measured apart.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PutItemCommand, TransactWriteItemsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbClient } from '#local/dynamodb.ts';
import { ms, table } from './support/markdown.ts';
import { percentile } from './support/stats.ts';
import type { Benchmark } from './support/types.ts';

const TABLE = 'bench-transactions';
const ITEMS = 100;
const WARMUP = 5;
const ROUNDS = 30;

interface Sample {
  wallMs: number;
  clientCpuMs: number;
  serverCpuMs: number;
}

/** The embedded server in a child process, and a way to read its CPU time. */
interface ServerProcess {
  endpoint: string;
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

function startServerProcess(projectRoot: string): Promise<ServerProcess> {
  const child: ChildProcess = fork(join(projectRoot, 'bench/support/embedded-dynamodb-server.ts'), [TABLE], {
    cwd: projectRoot,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = <T>(pick: (message: Record<string, unknown>) => T | undefined): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        const value = pick(message as Record<string, unknown>);
        if (value === undefined) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(value);
      };
      const onExit = (code: number | null): void => reject(new Error(`embedded DynamoDB process exited with ${code}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return next((message) => message.endpoint as string | undefined).then((endpoint) => ({
    endpoint,
    cpuMs: async () => {
      const answer = next((message) => message.cpu as NodeJS.CpuUsage | undefined);
      child.send('cpu');
      const cpu = await answer;
      return (cpu.user + cpu.system) / 1000;
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('close');
      }),
  }));
}

type Mode = 'one TransactWriteItems, 100 conditional Puts' | '100 parallel conditional PutItem' | 'one TransactWriteItems, cancelled by its 100th action';
const MODES: readonly Mode[] = [
  'one TransactWriteItems, 100 conditional Puts',
  '100 parallel conditional PutItem',
  'one TransactWriteItems, cancelled by its 100th action',
];

let sequence = 0;

function conditionalPut(pk: string) {
  return {
    TableName: TABLE,
    Item: { pk: { S: pk }, state: { S: 'claimed' }, claimedAt: { S: new Date(0).toISOString() } },
    ConditionExpression: 'attribute_not_exists(pk)',
  };
}

/** Runs one round of `mode` on 100 fresh keys; returns its wall and CPU time. */
async function round(client: DynamoDBClient, server: ServerProcess, mode: Mode): Promise<Sample> {
  sequence += 1;
  const keys = Array.from({ length: ITEMS }, (_, index) => `bench-${sequence}-${index}`);
  if (mode === 'one TransactWriteItems, cancelled by its 100th action') {
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: keys[ITEMS - 1]! } } }));
  }
  const serverBefore = await server.cpuMs();
  const cpu = process.cpuUsage();
  const start = performance.now();
  if (mode === '100 parallel conditional PutItem') {
    await Promise.all(keys.map((pk) => client.send(new PutItemCommand(conditionalPut(pk)))));
  } else {
    const sent = client.send(
      new TransactWriteItemsCommand({
        TransactItems: keys.map((pk) => ({ Put: { ...conditionalPut(pk), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } })),
      }),
    );
    if (mode === 'one TransactWriteItems, cancelled by its 100th action') {
      const outcome = await sent.then(
        () => 'applied',
        (error: Error) => error.name,
      );
      if (outcome !== 'TransactionCanceledException') throw new Error(`expected a cancelled transaction, got ${outcome}`);
    } else {
      await sent;
    }
  }
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const serverAfter = await server.cpuMs();
  return { wallMs, clientCpuMs: (used.user + used.system) / 1000, serverCpuMs: serverAfter - serverBefore };
}

/** What a 100-Put transaction costs the client and the embedded server, next to 100 parallel PutItem calls. */
export const dynamodbTransactionsBenchmark: Benchmark = {
  name: 'dynamodb-transactions',
  async run(context) {
    const server = await startServerProcess(context.projectRoot);
    const client = localDynamoDbClient(server.endpoint);
    const samples = new Map<Mode, Sample[]>(MODES.map((mode) => [mode, []]));
    try {
      for (let index = 0; index < WARMUP + ROUNDS; index += 1) {
        // The modes take turns, so drift (other processes on the machine) falls on all alike.
        for (const mode of MODES) {
          const sample = await round(client, server, mode);
          if (index >= WARMUP) samples.get(mode)!.push(sample);
        }
      }
      context.progress(`dynamodb-transactions: ${ROUNDS} rounds of each mode`);
    } finally {
      client.destroy();
      await server.close();
    }
    const rows = MODES.map((mode) => {
      const list = samples.get(mode)!;
      const wall = list.map((sample) => sample.wallMs);
      const client = list.map((sample) => sample.clientCpuMs);
      const server = list.map((sample) => sample.serverCpuMs);
      return [
        mode,
        ms(percentile(wall, 50)),
        ms(percentile(wall, 90)),
        ms(percentile(client, 50)),
        ms(percentile(client, 90)),
        ms(percentile(server, 50)),
        ms(percentile(server, 90)),
      ];
    });
    return [
      '## Embedded DynamoDB: TransactWriteItems of 100 conditional Puts',
      '',
      `Each mode ${ROUNDS} times on 100 fresh keys (after ${WARMUP} warm-up rounds, modes taking turns), through the AWS SDK`,
      'client against the embedded server (dynalite with local/dynamodb-transactions.ts) in a child process on 127.0.0.1.',
      'CPU is process.cpuUsage (user + system): the client is this process (the SDK), the server is the child.',
      '',
      table(
        ['mode', 'wall p50', 'wall p90', 'client CPU p50', 'client CPU p90', 'server CPU p50', 'server CPU p90'],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    ].join('\n');
  },
};
