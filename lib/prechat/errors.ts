/** The pre-chat route's own failure, answered as its problem by the HTTP stack. */
import { DependencyError } from '#lib/errors';
import { EnqueueError } from '#lib/jobs';

/**
 * The guest participant has its attributes and routing, but the CRM sync job could not be
 * queued: 502 naming the conversation, the queue chosen and the job, so the flow knows the
 * attributes were applied and nothing was lost silently.
 */
export class PrechatSyncNotQueuedError extends DependencyError {
  constructor(conversationId: string, routingQueueId: string, syncJobId: string, cause: unknown) {
    super(cause instanceof EnqueueError ? cause.message : 'The CRM sync job could not be queued.', 502, { cause });
    if (cause instanceof EnqueueError) Object.assign(this.extensions, cause.extensions);
    Object.assign(this.extensions, { conversationId, routingQueueId, attributesApplied: true, syncJobId });
  }
}
