/**
 * The Messenger configuration for one authenticated user (contract section 2,
 * `GET /widget/config`). Pure: the deployment check happens before.
 */
import type { WidgetConfig } from '#lib/config';
import { candidateAttributes, filterGuestAttributes, type FilteredAttributes } from './attributes.ts';
import type { WidgetUser } from './claims.ts';

/** The 200 body. */
export interface WidgetConfiguration {
  deploymentId: string;
  organizationId: string;
  environment: string;
  /** Allowlisted, identifier-free attributes for `setGuestAttributes`. */
  guestAttributes: Record<string, string>;
  /** Prefill of the user's own contact form. */
  guestDetails: { name?: string; email?: string; phone?: string };
  /** The native login prompt stays off: the user is already signed in. */
  features: { login: false };
}

/** Builds the configuration and reports which attributes were left out (names only). */
export function buildWidgetConfiguration(
  user: WidgetUser,
  settings: WidgetConfig,
): { configuration: WidgetConfiguration; dropped: FilteredAttributes['dropped'] } {
  const { attributes, dropped } = filterGuestAttributes(candidateAttributes(user), settings.guestAttributeAllowlist);
  return {
    configuration: {
      deploymentId: settings.webDeploymentId,
      organizationId: settings.organizationId,
      environment: settings.environment,
      guestAttributes: attributes,
      guestDetails: {
        ...(user.name !== undefined ? { name: user.name } : {}),
        ...(user.email !== undefined ? { email: user.email } : {}),
        ...(user.phone !== undefined ? { phone: user.phone } : {}),
      },
      features: { login: false },
    },
    dropped,
  };
}
