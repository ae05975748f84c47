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
  /**
   * Records the CRM rejected for good (moved to the DLQ). Also emitted with a `reason`
   * dimension holding the CRM's error code (e.g. VALIDATION_ERROR): in AWS the report has
   * no right to read DLQ messages, so it learns the top failure codes from this breakdown.
   */
  CrmRecordsFailedPermanently: 'CrmRecordsFailedPermanently',
  CrmRecordsRetried: 'CrmRecordsRetried',
  /** Messages the worker handed back to SQS for redelivery (batchItemFailures). */
  CrmRecordsDeferred: 'CrmRecordsDeferred',
  CrmChunks: 'CrmChunks',
  /** Jobs acknowledged unsent because a newer (or the same) version of their record was already applied. */
  JobsSuperseded: 'JobsSuperseded',
  /** Chunks answered from the finished-chunk records (applied before, not sent again). */
  CrmChunksReplayed: 'CrmChunksReplayed',
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

  // Guest engagement (GET /guests/{guestId}/metrics), one data point per guest measured
  GuestEngagementSessions: 'GuestEngagementSessions',
  /** Seconds from the guest's creation to its close (or last change while open). */
  GuestSessionDuration: 'GuestSessionDuration',
  GuestConversions: 'GuestConversions',

  // Shared
  JobsEnqueued: 'JobsEnqueued',
  /** Jobs SQS did not take in time, kept in the outbox for the sweep (the sync is pending, not lost). */
  JobsKeptInOutbox: 'JobsKeptInOutbox',
  /** Outbox jobs the sweep handed to SQS. */
  OutboxSent: 'OutboxSent',
  /** Outbox jobs SQS still did not take; tried again later. */
  OutboxDeferred: 'OutboxDeferred',

  // Genesys conversation events from EventBridge (docs/api.md section 3)
  EventsReceived: 'EventsReceived',
  /** Deliveries the function cannot read (logged with the reason, never retried). */
  EventsMalformed: 'EventsMalformed',
  /** Topics the suite does not act on. */
  EventsIgnored: 'EventsIgnored',
  /** The same event delivered again (same id, or same topic, conversation, participant, time and body). */
  EventsDuplicate: 'EventsDuplicate',
  /** Attributes older than the newest applied to their conversation. */
  EventsStale: 'EventsStale',
  /** A `gsRef` that names no prepared session (expired, or guessed). */
  EventsUnknownSession: 'EventsUnknownSession',
  /** Events of a conversation Genesys no longer knows (404): skipped, not retried. */
  EventsConversationGone: 'EventsConversationGone',
  /** PATCHes that re-asserted prepared attributes on a participant. */
  AttributesReasserted: 'AttributesReasserted',

  // The metrics report's own gauges: what each run saw of the queues (the backlog chart reads them)
  QueueBacklog: 'QueueBacklog',
  /** Seconds. */
  QueueOldestMessageAge: 'QueueOldestMessageAge',
  DlqDepth: 'DlqDepth',

  /** Powertools' cold-start metric (the middy stacks turn it on); extra dimension `function_name`. */
  ColdStart: 'ColdStart',
} as const;

/**
 * The extra dimension a breakdown is emitted with (`metrics.singleMetric()` plus
 * `addDimension`), on top of the shared `service`, `stage` and `function` dimensions.
 */
export const MetricDimensions = {
  reason: 'reason',
  status: 'status',
} as const;

/** One of the breakdown dimension names. */
export type MetricDimension = (typeof MetricDimensions)[keyof typeof MetricDimensions];

/** One of the suite's metric names. */
export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];
