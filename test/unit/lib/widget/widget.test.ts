import { describe, expect, it } from 'vitest';
import type { WidgetConfig } from '#lib/config';
import { UnauthorizedError } from '#lib/errors';
import { GenesysError, type WebDeployment } from '#lib/genesys';
import {
  DeploymentGate,
  DeploymentUnavailableError,
  buildWidgetConfiguration,
  candidateAttributes,
  filterGuestAttributes,
  widgetUserFromClaims,
} from '#lib/widget';

describe('filterGuestAttributes', () => {
  const candidates = { userId: 'usr_992834', userTier: 'Gold', lastOrderDate: '2023-10-27T14:30:00Z' };

  it.each<[string, string[], Record<string, string>]>([
    ['keeps allowlisted names', ['userId', 'userTier', 'lastOrderDate'], candidates],
    ['drops names not on the list', ['userId'], { userId: 'usr_992834' }],
    ['matches case-sensitively', ['userid', 'UserTier', 'lastOrderDate'], { lastOrderDate: '2023-10-27T14:30:00Z' }],
    ['does not trim or fuzzy-match', ['userId ', 'user'], {}],
    ['an empty allowlist allows nothing', [], {}],
    ['names on the list without a value are simply absent', ['customerId', 'userId'], { userId: 'usr_992834' }],
  ])('%s', (_case, allowlist, expected) => {
    expect(filterGuestAttributes(candidates, allowlist).attributes).toEqual(expected);
  });

  it.each([
    ['an email', 'jane@example.com'],
    ['a phone number', '+1 415 555 2671'],
    ['an SSN', '123-45-6789'],
    ['an email inside text', 'user jane@example.com'],
  ])('never lets %s through, even when allowlisted', (_case, value) => {
    // Act
    const result = filterGuestAttributes({ userId: value }, ['userId']);

    // Assess
    expect(result).toEqual({ attributes: {}, dropped: [{ name: 'userId', reason: 'identifier' }] });
  });

  it('reports what it left out by name and reason', () => {
    expect(filterGuestAttributes(candidates, ['userId']).dropped).toEqual([
      { name: 'userTier', reason: 'not_allowlisted' },
      { name: 'lastOrderDate', reason: 'not_allowlisted' },
    ]);
  });
});

describe('widgetUserFromClaims', () => {
  it('reads the contract claims', () => {
    expect(
      widgetUserFromClaims({
        sub: 'usr_1',
        tier: 'Gold',
        last_order_date: '2024-05-01',
        name: 'Jane Doe',
        email: 'jane@example.com',
        phone_number: '+15551234567',
        aud: ['web-messenger'],
      }),
    ).toEqual({ userId: 'usr_1', userTier: 'Gold', lastOrderDate: '2024-05-01', name: 'Jane Doe', email: 'jane@example.com', phone: '+15551234567' });
  });

  it('leaves out claims that are absent or blank', () => {
    expect(widgetUserFromClaims({ sub: 'usr_1', tier: ' ', name: 7 })).toEqual({ userId: 'usr_1', name: '7' });
  });

  it.each([
    ['no claims at all', {}],
    ['an empty sub', { sub: '' }],
    ['a sub that is not text', { sub: { id: 1 } }],
  ])('refuses %s with 401', (_case, claims) => {
    expect(() => widgetUserFromClaims(claims)).toThrow(UnauthorizedError);
  });

  it('never makes name, email or phone attribute candidates', () => {
    const user = widgetUserFromClaims({ sub: 'usr_1', name: 'Jane', email: 'jane@example.com', phone_number: '+15551234567' });
    expect(Object.keys(candidateAttributes(user))).toEqual(['userId']);
  });
});

describe('buildWidgetConfiguration', () => {
  const settings: WidgetConfig = {
    webDeploymentId: 'dep-1',
    deploymentCacheTtlMs: 300_000,
    organizationId: 'org-1',
    environment: 'mypurecloud.ie',
    guestAttributeAllowlist: ['userId', 'userTier', 'lastOrderDate', 'email'],
  };

  it('answers the contract body: allowlisted attributes, the user\'s own details, login off', () => {
    // Prepare
    const user = widgetUserFromClaims({ sub: 'usr_1', tier: 'Gold', name: 'Jane Doe', email: 'jane@example.com' });

    // Act
    const { configuration } = buildWidgetConfiguration(user, settings);

    // Assess
    expect(configuration).toEqual({
      deploymentId: 'dep-1',
      organizationId: 'org-1',
      environment: 'mypurecloud.ie',
      guestAttributes: { userId: 'usr_1', userTier: 'Gold' },
      guestDetails: { name: 'Jane Doe', email: 'jane@example.com' },
      features: { login: false },
    });
  });

  it('keeps the email out of guestAttributes even when "email" is allowlisted', () => {
    const user = widgetUserFromClaims({ sub: 'usr_1', email: 'jane@example.com' });
    expect(JSON.stringify(buildWidgetConfiguration(user, settings).configuration.guestAttributes)).not.toContain('jane@');
  });
});

describe('DeploymentGate', () => {
  const deployment = (status: WebDeployment['status']): WebDeployment => ({ id: 'dep-1', name: 'web', status });
  const gate = (answers: Array<WebDeployment | Error>) => {
    let now = 0;
    let calls = 0;
    const client = {
      getWebDeployment: async () => {
        const answer = answers[Math.min(calls, answers.length - 1)] as WebDeployment | Error;
        calls += 1;
        if (answer instanceof Error) throw answer;
        return { status: 200, body: answer };
      },
    };
    return {
      gate: new DeploymentGate(() => client, 300_000, () => now),
      calls: () => calls,
      advance: (ms: number) => {
        now += ms;
      },
    };
  };

  it('trusts an Active answer for 5 minutes', async () => {
    // Prepare
    const g = gate([deployment('Active')]);

    // Act
    const first = await g.gate.ensureActive('dep-1');
    g.advance(299_999);
    const second = await g.gate.ensureActive('dep-1');
    g.advance(1);
    const third = await g.gate.ensureActive('dep-1');

    // Assess
    expect([first, second, third]).toEqual([{ cached: false }, { cached: true }, { cached: false }]);
    expect(g.calls()).toBe(2);
  });

  it.each(['Inactive', 'Error', 'Deleting', 'Pending'] as const)('refuses a %s deployment with 503', async (status) => {
    // Prepare
    const g = gate([deployment(status)]);

    // Act
    const failure = await g.gate.ensureActive('dep-1').catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(DeploymentUnavailableError);
    expect(failure).toMatchObject({ status: 503, extensions: { deploymentId: 'dep-1', deploymentStatus: status } });
  });

  it('refuses a missing deployment with 503', async () => {
    // Prepare
    const g = gate([new GenesysError({ operation: 'getWebDeployment', kind: 'http', upstreamStatus: 404, retryable: false, attempts: 1 })]);

    // Act
    const failure = await g.gate.ensureActive('dep-1').catch((e: unknown) => e);

    // Assess
    expect(failure).toMatchObject({ status: 503, extensions: { deploymentStatus: 'Missing' } });
  });

  it('checks again after a refusal, so a deployment that comes back is served at once', async () => {
    // Prepare
    const g = gate([deployment('Inactive'), deployment('Active')]);
    await g.gate.ensureActive('dep-1').catch(() => undefined);

    // Act
    const result = await g.gate.ensureActive('dep-1');

    // Assess
    expect(result).toEqual({ cached: false });
  });

  it('passes other Genesys failures through', async () => {
    // Prepare
    const g = gate([new GenesysError({ operation: 'getWebDeployment', kind: 'http', upstreamStatus: 500, retryable: true, attempts: 3 })]);

    // Act
    const failure = await g.gate.ensureActive('dep-1').catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(GenesysError);
    expect((failure as GenesysError).status).toBe(502);
  });
});
