/** The widget's errors. */
import { AppError } from '#lib/errors';

/** The deployment cannot serve the Messenger (paused, broken, being deleted or missing): 503. */
export class DeploymentUnavailableError extends AppError {
  readonly status = 503;
  readonly type = 'deployment-unavailable';
  readonly title = 'Messenger deployment unavailable';

  constructor(deploymentId: string, deploymentStatus: string, options?: { cause?: unknown }) {
    super(
      deploymentStatus === 'Missing'
        ? `Web deployment ${deploymentId} does not exist in Genesys Cloud; the Messenger cannot be served.`
        : `Web deployment ${deploymentId} is ${deploymentStatus}, not Active; the Messenger cannot be served until it is active again.`,
      options,
    );
    Object.assign(this.extensions, { deploymentId, deploymentStatus });
  }
}
