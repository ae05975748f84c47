/**
 * The Messenger configuration for one authenticated user (docs/api.md section 2,
 * `GET /widget/config`). Pure: the deployment check and the prepared session happen before.
 */
import { createHash } from 'node:crypto';
import type { WidgetConfig } from '#lib/config';
import { candidateAttributes, filterGuestAttributes, type FilteredAttributes } from './attributes.ts';
import type { WidgetUser } from './claims.ts';

/** The 200 body. */
export interface WidgetConfiguration {
  deploymentId: string;
  organizationId: string;
  /** The Messenger environment name for `GENESYS_REGION` (`prod-euw1`), as the deployment snippet passes it. */
  environment: string;
  /** Allowlisted, identifier-free attributes for `setGuestAttributes`. */
  guestAttributes: Record<string, string>;
  /** Prefill of the user's own contact form: returned to its owner only, never stored or logged. */
  guestDetails: { name?: string; email?: string; phone?: string };
  /** The native login prompt stays off: the user is already signed in. */
  features: { login: false };
  /** The string map for `Database.set`: the allowlisted attributes plus the prepared session's `gsRef`. */
  customAttributes: Record<string, string>;
}

/** The attributes the user's verified claims supply, allowlisted, and which were left out (names only). */
export function widgetAttributes(user: WidgetUser, settings: Pick<WidgetConfig, 'guestAttributeAllowlist'>): FilteredAttributes {
  return filterGuestAttributes(candidateAttributes(user), settings.guestAttributeAllowlist);
}

/**
 * The id of the prepared session that holds a user's widget attributes: one per user and
 * web deployment, derived (SHA-256, shaped as a UUID) rather than drawn per call. The
 * widget is fetched on every page view; a stable id means every view of the same user
 * re-prepares the same session and hands out the same `gsRef`, so the conversation that
 * user starts (from any of those pages) names one session, a tier change in the token
 * replaces its attributes, and the state table holds one session per active user instead
 * of one per page view. The user id itself is not in the key.
 */
export function widgetSessionId(deploymentId: string, userId: string): string {
  const hex = createHash('sha256').update(`widget-config\n${deploymentId}\n${userId}`).digest('hex');
  // RFC 9562 version 8 (custom) and the RFC variant bits, so the id is a well-formed UUID.
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Builds the body from the user, the settings, the Messenger environment and the prepared session's reference. */
export function buildWidgetConfiguration(
  user: WidgetUser,
  settings: Pick<WidgetConfig, 'webDeploymentId' | 'organizationId'>,
  prepared: { environment: string; attributes: Record<string, string>; gsRef: string },
): WidgetConfiguration {
  return {
    deploymentId: settings.webDeploymentId,
    organizationId: settings.organizationId,
    environment: prepared.environment,
    guestAttributes: { ...prepared.attributes },
    guestDetails: {
      ...(user.name !== undefined ? { name: user.name } : {}),
      ...(user.email !== undefined ? { email: user.email } : {}),
      ...(user.phone !== undefined ? { phone: user.phone } : {}),
    },
    features: { login: false },
    customAttributes: { ...prepared.attributes, gsRef: prepared.gsRef },
  };
}
