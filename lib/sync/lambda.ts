/**
 * The worker's and the control function's Lambda calls: read and switch the worker's SQS
 * event source mapping (how "stop taking work" looks in AWS), and wake the control
 * function asynchronously the moment the worker sees an outage. Locally the stack's
 * control server speaks the same API (`AWS_ENDPOINT_URL_LAMBDA`).
 */
import {
  GetEventSourceMappingCommand,
  InvokeCommand,
  LambdaClient,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { awsCall, awsRequestHandler } from '#lib/net';

let sharedClient: LambdaClient | undefined;

/**
 * The container's Lambda client, with a real deadline: connection 1 s and response 3 s
 * per attempt (`throwOnRequestTimeout`, or the installed handler only warns), 2 attempts.
 */
export function sharedLambdaClient(): LambdaClient {
  sharedClient ??= new LambdaClient({
    maxAttempts: 2,
    requestHandler: awsRequestHandler(3_000),
  });
  return sharedClient;
}

/** Drops the shared client so a test can build it again. */
export function resetSharedLambdaClientForTests(): void {
  sharedClient?.destroy();
  sharedClient = undefined;
}

/** A mapping's state as the control function acts on it. */
export type MappingState = 'enabled' | 'disabled' | 'changing';

/**
 * Lambda's mapping states reduced to three: `Enabled` takes work; `Disabled` and
 * `Disabling` will take none; `Creating`, `Enabling`, `Updating` (and anything new) are
 * on their way to taking work, so a pause must still disable them.
 */
export function mappingStateOf(state: string | undefined): MappingState {
  if (state === 'Enabled') return 'enabled';
  if (state === 'Disabled' || state === 'Disabling') return 'disabled';
  return 'changing';
}

/** The event source mapping, seen through the Lambda API. */
export interface MappingPort {
  state(): Promise<MappingState>;
  setEnabled(enabled: boolean): Promise<void>;
}

/** The mapping `uuid` through `client` (Get/UpdateEventSourceMapping, nothing else). */
export function lambdaMapping(client: LambdaClient, uuid: string, budgetMs = 5_000): MappingPort {
  return {
    state: async () => {
      const mapping = await awsCall(budgetMs, (o) => client.send(new GetEventSourceMappingCommand({ UUID: uuid }), o));
      return mappingStateOf(mapping.State);
    },
    setEnabled: async (enabled) => {
      await awsCall(budgetMs, (o) => client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }), o));
    },
  };
}

/** Invokes `functionName` asynchronously (InvocationType Event) with `payload`; resolves once Lambda accepted it. */
export async function invokeAsync(client: LambdaClient, functionName: string, payload: unknown, budgetMs = 2_000): Promise<void> {
  await awsCall(budgetMs, (o) =>
    client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(payload)) }), o),
  );
}
