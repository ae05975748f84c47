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
  /**
   * The upstream rejected the token: drop it and re-read the credentials next time.
   * Passing the rejected token lets a provider ignore a late report about a token it has
   * already replaced, so a burst of refusals costs one re-read.
   */
  invalidate(rejectedToken?: string): void;
}
