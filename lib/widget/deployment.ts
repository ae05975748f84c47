/**
 * The web deployment check (docs/api.md section 4, `getWebDeployment`): the widget is only
 * served while the deployment is `Active`. An `Active` answer is trusted for 5 minutes
 * per container; anything else is checked again on the next request, so a deployment
 * that comes back is served at once.
 */
import { GenesysError, genesysOperations, type Deadline, type GenesysClient } from '#lib/genesys';
import { DeploymentUnavailableError } from './errors.ts';

/** How long an `Active` answer is trusted. */
export const DEPLOYMENT_CACHE_TTL_MS = 5 * 60_000;

/** Checks deployments and remembers the active ones for a while. */
export class DeploymentGate {
  readonly #activeUntil = new Map<string, number>();

  constructor(
    private readonly client: () => Pick<GenesysClient, 'call'>,
    private readonly ttlMs: number = DEPLOYMENT_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Resolves when the deployment is `Active`; throws `DeploymentUnavailableError` when it
   * is not or does not exist, and Genesys' own error for anything else (429, 5xx, timeout).
   */
  async ensureActive(deploymentId: string, options: { deadline?: Deadline } = {}): Promise<{ cached: boolean }> {
    const until = this.#activeUntil.get(deploymentId);
    if (until !== undefined && until > this.now()) return { cached: true };
    this.#activeUntil.delete(deploymentId);
    let status: string;
    try {
      const { body } = await this.client().call(genesysOperations.getWebDeployment, {
        params: { deploymentId },
        ...(options.deadline ? { deadline: options.deadline } : {}),
      });
      status = typeof body?.status === 'string' ? body.status : 'Unknown';
    } catch (error) {
      if (error instanceof GenesysError && error.upstreamStatus === 404) {
        throw new DeploymentUnavailableError(deploymentId, 'Missing', { cause: error });
      }
      throw error;
    }
    if (status !== 'Active') throw new DeploymentUnavailableError(deploymentId, status);
    this.#activeUntil.set(deploymentId, this.now() + this.ttlMs);
    return { cached: false };
  }

  /** Forgets every remembered answer. */
  clear(): void {
    this.#activeUntil.clear();
  }
}
