/**
 * The contract between the auth layer and the HTTP clients that need bearer tokens.
 */

/**
 * Supplies bearer tokens to an HTTP client. The Genesys and CRM clients depend on exactly
 * this, so they can be tested with a fake and never see credentials.
 */
export interface TokenProvider {
  /** A token valid for at least the next minute (fetched or re-read when needed). */
  getToken(): Promise<string>;
  /** The upstream rejected the token: drop it and re-read the credentials next time. */
  invalidate(): void;
}
