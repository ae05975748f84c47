import { describe, expect, it } from 'vitest';
import type { WidgetConfig } from '#lib/config';
import { UnauthorizedError } from '#lib/errors';
import { GenesysError, type GenesysClient } from '#lib/genesys';
import type { WebDeployment } from '#lib/genesys/operations.ts';
import { ConfigError } from '#lib/errors';
import { PreparedSessions } from '#lib/state';
import { SESSION_REF_PATTERN } from '#lib/state/sessions.ts';
import { MemoryStateTable } from '#lib/state/table.ts';
import { DeploymentGate, messengerEnvironment } from '#lib/widget';
import { widgetUserFromClaims } from '#lib/widget/claims.ts';
import { widgetConfigurationFor } from '#lib/widget/service.ts';
import { DeploymentUnavailableError } from '#lib/widget/errors.ts';
import { candidateAttributes, filterGuestAttributes } from '#lib/widget/attributes.ts';
import { buildWidgetConfiguration, widgetAttributes, widgetSessionId } from '#lib/widget/config.ts';
import { MESSENGER_ENVIRONMENTS } from '#lib/widget/environment.ts';

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

  it('answers the contract body: allowlisted attributes, the user\'s own details, login off, the Messenger map with gsRef', () => {
    // Prepare
    const user = widgetUserFromClaims({ sub: 'usr_1', tier: 'Gold', name: 'Jane Doe', email: 'jane@example.com' });
    const { attributes } = widgetAttributes(user, settings);

    // Act
    const configuration = buildWidgetConfiguration(user, settings, { environment: 'prod-euw1', attributes, gsRef: 'r'.repeat(24) });

    // Assess
    expect(configuration).toEqual({
      deploymentId: 'dep-1',
      organizationId: 'org-1',
      environment: 'prod-euw1',
      guestAttributes: { userId: 'usr_1', userTier: 'Gold' },
      guestDetails: { name: 'Jane Doe', email: 'jane@example.com' },
      features: { login: false },
      customAttributes: { userId: 'usr_1', userTier: 'Gold', gsRef: 'r'.repeat(24) },
    });
  });

  it('keeps the email out of guestAttributes even when "email" is allowlisted', () => {
    const user = widgetUserFromClaims({ sub: 'usr_1', email: 'jane@example.com' });
    expect(JSON.stringify(widgetAttributes(user, settings).attributes)).not.toContain('jane@');
  });
});

describe('messengerEnvironment', () => {
  it.each([
    ['mypurecloud.com', 'prod'],
    ['mypurecloud.ie', 'prod-euw1'],
    ['mypurecloud.de', 'prod-euc1'],
    ['mypurecloud.com.au', 'prod-apse2'],
    ['mypurecloud.jp', 'prod-apne1'],
    ['usw2.pure.cloud', 'prod-usw2'],
    ['cac1.pure.cloud', 'prod-cac1'],
    ['euw2.pure.cloud', 'prod-euw2'],
    ['apne2.pure.cloud', 'prod-apne2'],
    ['aps1.pure.cloud', 'prod-aps1'],
    ['use2.us-gov-pure.cloud', 'fedramp-use2-core'],
  ])('names %s the way the deployment snippet does: %s', (region, environment) => {
    expect(messengerEnvironment(region)).toBe(environment);
  });

  it('knows every region host of the official SDK except the EU sovereign cloud, whose Messenger name is unpublished', async () => {
    // Prepare: the SDK's region table (purecloud-platform-client-v2, a devDependency)
    const { readFile } = await import('node:fs/promises');
    const source = await readFile('node_modules/purecloud-platform-client-v2/src/purecloud-platform-client-v2/PureCloudRegionHosts.js', 'utf8');
    const hosts = [...source.matchAll(/:\s*'([a-z0-9.-]+)'/g)].map((match) => match[1]);

    // Assess
    expect(hosts.length).toBeGreaterThan(10);
    expect(hosts.filter((host) => host !== undefined && !(host in MESSENGER_ENVIRONMENTS))).toEqual(['edee1.eusc-pure.cloud']);
  });

  it('refuses an unknown region with a ConfigError naming GENESYS_REGION, and serves "local" without one', () => {
    const error = (() => {
      try {
        return messengerEnvironment('example.com');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(['GENESYS_REGION']);
    expect(messengerEnvironment('')).toBe('local');
  });
});

describe('widgetSessionId', () => {
  it('is one well-formed UUID per user and deployment, without the user id in it', () => {
    const id = widgetSessionId('dep-1', 'usr_1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(widgetSessionId('dep-1', 'usr_1')).toBe(id);
    expect(widgetSessionId('dep-1', 'usr_2')).not.toBe(id);
    expect(widgetSessionId('dep-2', 'usr_1')).not.toBe(id);
  });
});

describe('widgetConfigurationFor', () => {
  const NOW = Date.parse('2026-11-30T12:00:00.000Z');
  const settings = { webDeploymentId: 'dep-1', organizationId: 'org-1', guestAttributeAllowlist: ['userId', 'userTier'] };
  const setup = () => {
    const table = new MemoryStateTable(() => NOW);
    const sessions = new PreparedSessions(table, () => NOW);
    const deps = {
      deployments: { ensureActive: async () => ({ cached: false }) },
      sessions,
      settings,
      environment: 'prod-euw1',
      ttlSeconds: 1800,
      now: () => new Date(NOW),
    };
    return { table, sessions, deps };
  };

  it('stores the allowlisted attributes as a prepared session under the gsRef it answers, and nothing of guestDetails', async () => {
    // Prepare
    const { table, sessions, deps } = setup();
    const user = widgetUserFromClaims({ sub: 'usr_1', tier: 'gold', name: 'Jane Doe', email: 'jane@example.com', phone_number: '+15551234567' });

    // Act
    const { configuration } = await widgetConfigurationFor(user, deps);

    // Assess
    const gsRef = configuration.customAttributes['gsRef'] ?? '';
    expect(gsRef).toMatch(SESSION_REF_PATTERN);
    expect(configuration.customAttributes).toEqual({ userId: 'usr_1', userTier: 'gold', gsRef });
    expect(await sessions.byRef(gsRef)).toMatchObject({ sessionId: widgetSessionId('dep-1', 'usr_1'), attributes: { userId: 'usr_1', userTier: 'gold' } });
    expect(JSON.stringify([...table.items.values()])).not.toMatch(/Jane|jane@|5551234567/);
  });

  it('hands the same user the same gsRef on every page view, with the attributes of the newest token', async () => {
    // Prepare
    const { sessions, deps } = setup();
    const first = await widgetConfigurationFor(widgetUserFromClaims({ sub: 'usr_1', tier: 'gold' }), deps);

    // Act
    const second = await widgetConfigurationFor(widgetUserFromClaims({ sub: 'usr_1', tier: 'platinum' }), deps);

    // Assess
    expect(second.configuration.customAttributes['gsRef']).toBe(first.configuration.customAttributes['gsRef']);
    expect((await sessions.byRef(second.configuration.customAttributes['gsRef'] ?? ''))?.attributes).toEqual({ userId: 'usr_1', userTier: 'platinum' });
  });

  it('stores nothing when the deployment is not Active', async () => {
    const { table, deps } = setup();
    deps.deployments.ensureActive = async () => {
      throw new DeploymentUnavailableError('dep-1', 'Inactive');
    };
    await expect(widgetConfigurationFor(widgetUserFromClaims({ sub: 'usr_1' }), deps)).rejects.toBeInstanceOf(DeploymentUnavailableError);
    expect(table.items.size).toBe(0);
  });

  it('answers 503 when the state table is unavailable', async () => {
    const { table, deps } = setup();
    table.put = async () => {
      throw Object.assign(new Error('unavailable'), { name: 'InternalServerError' });
    };
    await expect(widgetConfigurationFor(widgetUserFromClaims({ sub: 'usr_1' }), deps)).rejects.toMatchObject({ status: 503 });
  });
});

describe('DeploymentGate', () => {
  const deployment = (status: WebDeployment['status']): WebDeployment => ({ id: 'dep-1', name: 'web', status });
  const gate = (answers: Array<WebDeployment | Error>) => {
    let now = 0;
    let calls = 0;
    const client = {
      call: async () => {
        const answer = answers[Math.min(calls, answers.length - 1)] as WebDeployment | Error;
        calls += 1;
        if (answer instanceof Error) throw answer;
        return { status: 200, body: answer };
      },
    };
    return {
      gate: new DeploymentGate(() => client as unknown as Pick<GenesysClient, 'call'>, 300_000, () => now),
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
