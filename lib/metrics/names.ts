/**
 * The suite's metric names, agreed in one place: every function emits them through the
 * shared Powertools Metrics instance (namespace GenesysGuestSync, dimensions stage and
 * function), and the metrics report reads the same names.
 */
export const MetricNames = {
  // Prefill (POST /sessions/{sessionId}/prefill)
  PrefillAttempts: 'PrefillAttempts',
  PrefillSuccesses: 'PrefillSuccesses',
  /** Emitted with a `reason` dimension (validation, too_large, not_found, throttled, upstream, enqueue). */
  PrefillFailures: 'PrefillFailures',
  PrefillLatency: 'PrefillLatency',
  PrefillPayloadBytes: 'PrefillPayloadBytes',

  // Webhook (POST /webhooks/genesys)
  WebhookAccepted: 'WebhookAccepted',
  WebhookIgnored: 'WebhookIgnored',
  /** Emitted with a `reason` dimension (signature, stale, malformed, enqueue). */
  WebhookRejected: 'WebhookRejected',

  // CRM sync worker
  CrmRecordsReceived: 'CrmRecordsReceived',
  CrmRecordsCoalesced: 'CrmRecordsCoalesced',
  /** Emitted with a `status` dimension (created, updated, unchanged). */
  CrmRecordsUpserted: 'CrmRecordsUpserted',
  CrmRecordsFailedPermanently: 'CrmRecordsFailedPermanently',
  CrmRecordsRetried: 'CrmRecordsRetried',
  CrmChunks: 'CrmChunks',
  CrmChunkLatency: 'CrmChunkLatency',
  CrmBreakerOpened: 'CrmBreakerOpened',
  CrmBreakerHalfOpened: 'CrmBreakerHalfOpened',
  CrmBreakerClosed: 'CrmBreakerClosed',

  // Guests, pre-chat, widget
  GuestsCreated: 'GuestsCreated',
  GuestsUpdated: 'GuestsUpdated',
  GuestConflictsResolved: 'GuestConflictsResolved',
  PrechatEnriched: 'PrechatEnriched',
  PrechatUnenriched: 'PrechatUnenriched',
  WidgetConfigServed: 'WidgetConfigServed',
  WidgetDeploymentUnavailable: 'WidgetDeploymentUnavailable',

  // Shared
  JobsEnqueued: 'JobsEnqueued',
} as const;

/** One of the suite's metric names. */
export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];
