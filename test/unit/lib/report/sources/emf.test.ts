import { describe, expect, it } from 'vitest';
import { isEmfLine, parseEmfLine } from '#lib/report/sources/emf.ts';

const line = JSON.stringify({
  _aws: { Timestamp: 1736937000000, CloudWatchMetrics: [{ Namespace: 'GenesysGuestSync', Dimensions: [['service', 'stage', 'function', 'reason']], Metrics: [{ Name: 'PrefillFailures', Unit: 'Count' }, { Name: 'PrefillLatency', Unit: 'Milliseconds' }] }] },
  service: 'genesys-guest-sync',
  stage: 'local',
  function: 'fn',
  reason: 'not_found',
  PrefillFailures: 1,
  PrefillLatency: [12, 30],
});

describe('EMF lines', () => {
  describe.each([
    { what: 'a Powertools EMF line', text: line, emf: true },
    { what: 'the same with spaces around it', text: `  ${line}\r`, emf: true },
    { what: 'a log line', text: '{"level":"INFO","message":"_aws CloudWatchMetrics"}', emf: false },
    { what: 'a torn EMF line', text: line.slice(0, 80), emf: false },
    { what: 'plain text', text: 'offline: GET /health', emf: false },
    { what: 'EMF without a timestamp', text: '{"_aws":{"CloudWatchMetrics":[]}}', emf: false },
  ])('$what', ({ text, emf }) => {
    it(emf ? 'is EMF' : 'is not EMF', () => {
      expect(isEmfLine(text)).toBe(emf);
      expect(parseEmfLine(text).length > 0).toBe(emf);
    });
  });

  it('yields one sample per metric with the dimension set and every value', () => {
    expect(parseEmfLine(line)).toEqual([
      { namespace: 'GenesysGuestSync', metric: 'PrefillFailures', timestamp: 1736937000000, values: [1], dimensions: { service: 'genesys-guest-sync', stage: 'local', function: 'fn', reason: 'not_found' } },
      { namespace: 'GenesysGuestSync', metric: 'PrefillLatency', timestamp: 1736937000000, values: [12, 30], dimensions: { service: 'genesys-guest-sync', stage: 'local', function: 'fn', reason: 'not_found' } },
    ]);
  });
});
