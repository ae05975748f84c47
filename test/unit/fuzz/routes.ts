/** The HTTP routes of the suite as the property-based tests drive them (docs/api.md section 2). */
import { END_USER_CLAIMS, MACHINE_CLAIMS, type FuzzRoute } from './harness.ts';

/** Guest ids created in the sandbox before fuzzing, so GET/PATCH/metrics reach their success path too. */
export const knownGuests: string[] = [];

const sessionId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

/** Every route, with a valid body the arbitraries mutate and its documented success statuses. */
export const ROUTES: Record<string, FuzzRoute> = {
  health: { name: 'GET /health', file: 'health.ts', method: 'GET', path: '/health', template: () => ({}), success: [200] },
  prefill: {
    name: 'POST /sessions/{sessionId}/prefill',
    file: 'prefill.ts',
    method: 'POST',
    path: '/sessions/{sessionId}/prefill',
    param: 'sessionId',
    claims: MACHINE_CLAIMS,
    template: () => ({
      attributes: { first_name: 'Jane', account_tier: 'enterprise', email: 'jane.doe@enterprise.com' },
      consent: { consent_terms_accepted: 'true', marketing_opt_in: false },
    }),
    validIds: () => [sessionId],
    success: [200],
    freeText: [
      { path: ['attributes'], keys: true },
      { path: ['consent'], keys: true },
    ],
  },
  webhook: {
    name: 'POST /webhooks/genesys',
    file: 'webhook.ts',
    method: 'POST',
    path: '/webhooks/genesys',
    template: () => ({
      eventId: 'evt-fuzz',
      event: 'guest.session.attributes.updated',
      sessionId,
      attributes: { first_name: 'Jane', tier: 'gold' },
      timestamp: new Date().toISOString(),
    }),
    routeHeaders: ['x-hub-signature-256', 'X-Hub-Signature-256'],
    signed: true,
    success: [202],
    freeText: [{ path: ['attributes'], keys: true }],
  },
  createGuest: {
    name: 'POST /guests',
    file: 'guests/create.ts',
    method: 'POST',
    path: '/guests',
    claims: MACHINE_CLAIMS,
    template: () => ({
      email: 'jane.doe@example.com',
      consent: { marketing: false, dataProcessing: true },
      channelContext: { originPage: 'https://www.example.com/support', campaignId: 'WINTER-2024' },
      attributes: { source: 'website' },
    }),
    success: [201],
    freeText: [
      { path: ['attributes'], keys: true },
      { path: ['identityAttributes', 'deviceFingerprint'], keys: false },
    ],
  },
  getGuest: {
    name: 'GET /guests/{guestId}',
    file: 'guests/get.ts',
    method: 'GET',
    path: '/guests/{guestId}',
    param: 'guestId',
    claims: MACHINE_CLAIMS,
    template: () => ({}),
    validIds: () => knownGuests,
    success: [200],
  },
  updateGuest: {
    name: 'PATCH /guests/{guestId}',
    file: 'guests/update.ts',
    method: 'PATCH',
    path: '/guests/{guestId}',
    param: 'guestId',
    claims: MACHINE_CLAIMS,
    template: () => ({ consent: { marketing: true }, attributes: { loyaltyTier: 'platinum' } }),
    routeHeaders: ['if-match', 'If-Match'],
    baseHeaders: { 'if-match': '"1"' },
    validIds: () => knownGuests,
    success: [200],
    freeText: [
      { path: ['attributes'], keys: true },
      { path: ['identityAttributes', 'deviceFingerprint'], keys: false },
    ],
  },
  guestMetrics: {
    name: 'GET /guests/{guestId}/metrics',
    file: 'guests/metrics.ts',
    method: 'GET',
    path: '/guests/{guestId}/metrics',
    param: 'guestId',
    claims: MACHINE_CLAIMS,
    template: () => ({}),
    validIds: () => knownGuests,
    success: [200],
  },
  prechat: {
    name: 'POST /prechat/enrich',
    file: 'prechat.ts',
    method: 'POST',
    path: '/prechat/enrich',
    claims: MACHINE_CLAIMS,
    template: () => ({
      conversationId: '5c9e2f4a-1b3d-4e6f-8a7b-9c0d1e2f3a4b',
      participantId: '7d1f3a5b-2c4e-4f60-9b8a-0d1e2f3a4b5c',
      surveyAnswers: { email: 'john.doe@example.com', subject: 'Billing Inquiry', priority: 'high' },
    }),
    success: [200],
    freeText: [{ path: ['surveyAnswers', 'subject'], keys: false }],
  },
  widget: { name: 'GET /widget/config', file: 'widget-config.ts', method: 'GET', path: '/widget/config', claims: END_USER_CLAIMS, template: () => ({}), success: [200] },
};
