/** The CRM providers' errors: credentials, the OAuth token endpoint, and provider settings. */
import type { CrmProviderName } from '../adapter.ts';

/** The token endpoint refused the credentials, also after a fresh secret read. */
export class CrmCredentialsError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CrmCredentialsError';
  }
}

/** The token endpoint could not be used (no answer, 5xx, a body without a token). */
export class CrmTokenEndpointError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'CrmTokenEndpointError';
  }
}

/** A setting the chosen provider needs is missing; the message names the variable. */
export class CrmSettingsError extends Error {
  constructor(variable: string, provider: CrmProviderName) {
    super(`${variable} is required when CRM_PROVIDER is ${provider}`);
    this.name = 'CrmSettingsError';
  }
}
