/**
 * Test doubles for the auth tests: Secrets Manager answers for aws-sdk-client-mock and a
 * tiny OAuth login server on 127.0.0.1 that records every token request.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { startScriptedServer, type RecordedRequest } from '#test/support/scripted-server.ts';

/** A GetSecretValue answer holding `value` as its JSON secret string. */
export function secretOutput(value: unknown, stage = 'AWSCURRENT'): Partial<GetSecretValueCommandOutput> {
  return { SecretString: typeof value === 'string' ? value : JSON.stringify(value), VersionStages: [stage] };
}

/** What Secrets Manager throws for a secret or version stage that does not exist. */
export function notFound(stage = 'AWSPREVIOUS'): ResourceNotFoundException {
  return new ResourceNotFoundException({
    message: `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
    $metadata: { httpStatusCode: 400 },
  });
}

/** What Secrets Manager throws when it is throttling us. */
export function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
}

/** The login server's answer to one request. */
export interface Reply {
  status: number;
  body: unknown;
}

/** A running fake of `POST {login}/oauth/token`. */
export interface LoginServer {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Decides the answer to the n-th request (1-based); default: a fresh bearer token. */
  reply: (n: number, request: RecordedRequest) => Reply | 'hang';
  close(): Promise<void>;
}

/** Starts the fake login server on 127.0.0.1, port 0. */
export async function startLoginServer(): Promise<LoginServer> {
  const login: LoginServer = {
    baseUrl: '',
    requests: [],
    reply: (n) => ({ status: 200, body: { access_token: `token-${n}`, token_type: 'bearer', expires_in: 86_400 } }),
    close: async () => undefined,
  };
  const server = await startScriptedServer([], {
    after: (request, n) => {
      const reply = login.reply(n, request);
      return reply === 'hang' ? { hang: true } : reply;
    },
  });
  login.baseUrl = server.url;
  login.requests = server.requests;
  login.close = server.close;
  return login;
}

/** Everything an error would show when logged: message, own fields and its cause chain. */
export function everythingLogged(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify({ ...current }));
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}
