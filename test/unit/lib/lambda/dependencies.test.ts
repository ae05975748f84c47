import { describe, expect, it } from 'vitest';
import { ConfigError } from '#lib/errors';
import { dependenciesOnFirstUse } from '#lib/lambda';

describe('dependenciesOnFirstUse', () => {
  it('builds the dependencies at the first call only, and hands every later call the same object', () => {
    // Prepare
    let builds = 0;
    const dependencies = dependenciesOnFirstUse(() => ({ build: ++builds }));

    // Act
    const first = dependencies();
    const second = dependencies();

    // Assess
    expect(builds).toBe(1);
    expect(second).toBe(first);
  });

  it('builds nothing until called, and builds again after a failed build', () => {
    // Prepare
    let calls = 0;
    const dependencies = dependenciesOnFirstUse(() => {
      calls += 1;
      if (calls === 1) throw new ConfigError('Invalid configuration: CRM_SYNC_QUEUE_URL is required', ['CRM_SYNC_QUEUE_URL']);
      return { queueUrl: 'https://sqs.example/queue' };
    });
    expect(calls).toBe(0);

    // Act
    const failure = (() => {
      try {
        return dependencies();
      } catch (error) {
        return error;
      }
    })();
    const next = dependencies();

    // Assess
    expect(failure).toBeInstanceOf(ConfigError);
    expect(next).toEqual({ queueUrl: 'https://sqs.example/queue' });
    expect(calls).toBe(2);
  });
});
