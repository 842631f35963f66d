/**
 * Problems with the machine rather than the request: no Java, a port taken, DynamoDB Local not
 * starting. The CLI and `npm start` print the message (one line, with the fix) and exit 3.
 */
import { AgoraError } from '../domain/errors';

export type EnvironmentProblem =
  | 'java_missing'
  | 'java_too_old'
  | 'port_in_use'
  | 'dynamodb_local_failed'
  | 'store_unreachable'
  | 'invalid_configuration';

export class EnvironmentError extends AgoraError {
  readonly code: EnvironmentProblem;
  constructor(code: EnvironmentProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
