/**
 * X-Ray tracing through Powertools Tracer, one tracer per process. Lambda functions run with
 * active tracing (infra/constructs/service-function.ts); the tracer adds the handler's
 * subsegment, the cold-start and service annotations, the outbound HTTPS calls (Microsoft,
 * Google) and, for the clients passed to `traced`, every AWS SDK call (DynamoDB, SQS, S3, SES,
 * Secrets Manager, the marketplace APIs).
 *
 * Outside Lambda (the local stack, tests, the CLI) the tracer is disabled: `traced` returns the
 * client untouched and `traceHandler` calls the handler directly, so nothing changes there.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

export const TRACER_SERVICE_NAME = 'agora';
/** Annotations are indexed by X-Ray (filter expressions); these are the ones Agora sets. */
export const TRACE_ANNOTATION_KEYS = ['rawId', 'marketplace', 'contractId', 'eventId'] as const;

let tracer: Tracer | undefined;

/** The process's tracer (created on first use, so importing this module costs nothing). */
export function getTracer(): Tracer {
  tracer ??= new Tracer({ serviceName: TRACER_SERVICE_NAME, captureHTTPsRequests: true });
  return tracer;
}

export function tracingEnabled(): boolean {
  return getTracer().isTracingEnabled();
}

/**
 * Instruments one AWS SDK v3 client (or a DynamoDB document client) so each of its calls is a
 * subsegment. Call it where the client is built, once, at cold start.
 */
export function traced<T>(client: T): T {
  return getTracer().captureAWSv3Client(client);
}

/**
 * Adds searchable annotations to the current (sub)segment; values that are missing are skipped.
 * Only inside a handler wrapped by `traceHandler` (or Powertools' middy middleware): Lambda's own
 * segment cannot take annotations.
 */
export function annotate(
  values: Partial<Record<(typeof TRACE_ANNOTATION_KEYS)[number], string | null | undefined>>,
): void {
  const current = getTracer();
  if (!current.isTracingEnabled()) return;
  for (const key of TRACE_ANNOTATION_KEYS) {
    const value = values[key];
    if (typeof value === 'string' && value !== '') current.putAnnotation(key, value);
  }
}

/**
 * Wraps a Lambda handler that is not a middy stack (queue workers, scheduled jobs) in a `## name`
 * subsegment with the cold-start and service annotations; an error is recorded on the subsegment
 * and rethrown. Responses are never recorded (they can hold customer data).
 */
export function traceHandler<A extends unknown[], R>(
  name: string,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    const current = getTracer();
    if (!current.isTracingEnabled()) return handler(...args);
    const parent = current.getSegment();
    const subsegment = parent?.addNewSubsegment(`## ${name}`);
    if (subsegment) current.setSegment(subsegment);
    current.annotateColdStart();
    current.addServiceNameAnnotation();
    try {
      return await handler(...args);
    } catch (error) {
      current.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      subsegment?.close();
      if (parent) current.setSegment(parent);
    }
  };
}
