// Proves the metric lines: CloudWatch's embedded metric format (namespace Agora, one value under the metric's name), written only inside Lambda.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitMetric, METRICS_NAMESPACE, metricLine } from '../../../lib/runtime/metrics';

afterEach(() => vi.restoreAllMocks());

describe('metrics', () => {
  it('are EMF lines CloudWatch reads as a metric', () => {
    const line = JSON.parse(metricLine('ReconciliationExceptions', 3, 'Count', 1_700_000_000_000));
    expect(line).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [[]],
            Metrics: [{ Name: 'ReconciliationExceptions', Unit: 'Count' }],
          },
        ],
      },
      ReconciliationExceptions: 3,
    });
  });

  it('are written in Lambda and not locally', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    emitMetric('StatementFailures', 1, 'Count', {});
    expect(write).not.toHaveBeenCalled();
    emitMetric('StatementFailures', 1, 'Count', { AWS_LAMBDA_FUNCTION_NAME: 'agora-statements' });
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0]?.[0])).toMatch(/"StatementFailures":1/);
  });
});
