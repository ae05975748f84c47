/**
 * Checks that the allowlisted guest attributes reached a conversation (pure): finds the
 * guest participant of `GET /api/v2/conversations/{id}` and reports each attribute name
 * as present or missing. Used by `npm run verify-conversation`.
 */
import type { Conversation, ConversationParticipant } from '#lib/genesys';
import { maskIdentifiers } from '#lib/pii';

/** One attribute's verdict; the value is shown masked, in case it holds an identifier. */
export interface AttributeCheck {
  name: string;
  present: boolean;
  value?: string;
}

/** The verdict on one conversation. */
export interface ConversationVerification {
  conversationId: string;
  participantId: string | undefined;
  checks: AttributeCheck[];
  /** True when there is a guest participant and every attribute is present. */
  ok: boolean;
}

/** The guest: the public API calls it the `customer` participant (older payloads: `guest`). */
export function findGuestParticipant(conversation: Conversation): ConversationParticipant | undefined {
  return (conversation.participants ?? []).find((p) => p.purpose === 'customer' || p.purpose === 'guest');
}

/** Checks every name (exact, case-sensitive) against the guest participant's attributes. */
export function verifyConversationAttributes(conversation: Conversation, names: readonly string[]): ConversationVerification {
  const guest = findGuestParticipant(conversation);
  const attributes = guest?.attributes ?? {};
  const checks = names.map((name): AttributeCheck => {
    const raw: unknown = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    const present = raw !== undefined && raw !== null && String(raw) !== '';
    return present ? { name, present, value: maskIdentifiers(String(raw)).value } : { name, present };
  });
  return {
    conversationId: conversation.id,
    participantId: guest?.id,
    checks,
    ok: guest !== undefined && checks.every((check) => check.present),
  };
}
