// Proves how every AWS sample notification is understood: which re-read it triggers, which FIFO
// group it joins, and that catalog events are ignored and malformed payloads are invalid.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoredRawEnvelope } from '../../../../lib/app/ports';
import { licenseIdOf, parseAwsNotification } from '../../../../lib/marketplaces/aws/notifications';

const EVENTS = resolve(import.meta.dirname, '../../../../events');

function raw(
  body: string,
  channel: StoredRawEnvelope['channel'] = 'aws-eventbridge',
): StoredRawEnvelope {
  return {
    marketplace: 'aws',
    channel,
    providerMessageId: 'm',
    receivedAt: '2026-01-01T00:00:00Z',
    headers: {},
    body,
    authenticatedAs: null,
    rawId: 'raw_1',
    bodySha256: 'x',
    processedAt: null,
    outcome: null,
  };
}

function sample(folder: string, name: string): string {
  return readFileSync(resolve(EVENTS, folder, name), 'utf8');
}

const EXPECTED: Record<string, string> = {
  '01-agreement-created-manufacturer.json': 'aws-agreement aws#444455556666',
  '02-agreement-created-proposer.json': 'aws-agreement aws#444455556666',
  '03-license-updated.json': 'aws-license aws#444455556666',
  '04-sns-subscribe-success.json': 'aws-customer aws#customer:agorademo01/CustA1001',
  '05-sns-entitlement-updated.json': 'aws-customer aws#customer:agorademo01/CustA1001',
  '06-agreement-amended-proposer.json': 'aws-agreement aws#444455556666',
  '07-billing-adjustment-completed.json':
    'aws-billing-adjustment aws#agreement:agmt-agora0000000001001',
  '08-cancellation-request-approved.json': 'aws-agreement aws#444455556666',
  '10-agreement-created-manufacturer-cppo.json': 'aws-agreement aws#555566667777',
  '11-license-updated-cppo.json': 'aws-license aws#555566667777',
  '20-agreement-ended-manufacturer.json': 'aws-agreement aws#666677778888',
  '21-license-updated-renewed-predecessor.json': 'aws-license aws#666677778888',
  '22-agreement-created-renew.json': 'aws-agreement aws#666677778888',
  '23-license-updated-renewal.json': 'aws-license aws#666677778888',
  '30-changeset-succeeded.json': 'ignored aws#catalog',
  '31-offer-released.json': 'ignored aws#catalog',
  '40-sns-subscribe-success-legacy.json': 'aws-customer aws#customer:agoralegacy01/CustLegacy01',
  '41-sns-entitlement-updated-legacy.json': 'aws-customer aws#customer:agoralegacy01/CustLegacy01',
};

describe('parseAwsNotification', () => {
  it('understands every sample in events/aws', () => {
    const names = readdirSync(resolve(EVENTS, 'aws')).filter((n) => /^\d\d-/.test(n));
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const name of names) {
      const parsed = parseAwsNotification(raw(sample('aws', name)));
      const summary =
        parsed.kind === 'triggers'
          ? `${parsed.triggers[0]?.kind} ${parsed.groupKey}`
          : `${parsed.kind} ${parsed.groupKey}`;
      expect(summary, name).toBe(EXPECTED[name]);
    }
  });

  it('carries renewal intent, the predecessor and the CPPO resale authorization', () => {
    const renew = parseAwsNotification(raw(sample('aws', '22-agreement-created-renew.json')));
    expect(renew.kind === 'triggers' && renew.triggers[0]).toMatchObject({
      intent: 'RENEW',
      previousAgreementId: 'agmt-agora0000000001003',
    });
    const cppo = parseAwsNotification(
      raw(sample('aws', '10-agreement-created-manufacturer-cppo.json')),
    );
    expect(cppo.kind === 'triggers' && cppo.triggers[0]).toMatchObject({
      resaleAuthorizationId: 'resaleauthz-agora1002',
    });
    const adjustment = parseAwsNotification(
      raw(sample('aws', '07-billing-adjustment-completed.json')),
    );
    expect(adjustment.kind === 'triggers' && adjustment.triggers[0]).toMatchObject({
      amount: '500.00',
      currency: 'USD',
      adjustmentId: 'ba-agora0001',
    });
  });

  it('marks the invalid samples invalid, with a reason', () => {
    for (const name of readdirSync(resolve(EVENTS, 'invalid')).filter((n) =>
      n.startsWith('aws-'),
    )) {
      const parsed = parseAwsNotification(raw(sample('invalid', name)));
      expect(parsed.kind, name).toBe('invalid');
      expect(parsed.kind === 'invalid' && parsed.reason.length > 5).toBe(true);
    }
    expect(parseAwsNotification(raw('{not json')).kind).toBe('invalid');
    expect(parseAwsNotification(raw('{"hello":1}')).kind).toBe('invalid');
  });

  it('ignores notices that need no re-read and sources that are not marketplace ones', () => {
    const ending = JSON.stringify({
      id: 'x',
      'detail-type': 'Purchase Agreement Ending - Proposer',
      source: 'aws.agreement-marketplace',
      time: '2026-01-01T00:00:00Z',
      detail: {},
    });
    expect(parseAwsNotification(raw(ending)).kind).toBe('ignored');
    const other = JSON.stringify({
      id: 'x',
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
      time: '2026-01-01T00:00:00Z',
      detail: {},
    });
    expect(parseAwsNotification(raw(other)).kind).toBe('ignored');
  });

  it('normalizes license ARNs written with or without the arn: prefix', () => {
    expect(licenseIdOf('arn:aws:license-manager::123456789012:license:l-0f1e2d')).toBe('l-0f1e2d');
    expect(licenseIdOf('aws:license-manager::123456789012:license:l-0f1e2d')).toBe('l-0f1e2d');
  });
});
