// Proves the contract state machine and the diff: only legal transitions happen, a fresh read
// produces the shortest legal path of events with deterministic ids, re-applying the same read
// changes nothing, and impossible moves are typed errors rather than silent rewrites.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ContractStatus,
  type ContractTerms,
  ContractTermsSchema,
} from '../../../lib/domain/contract';
import {
  type ContractDiff,
  diffContract,
  InvalidContractTransitionError,
  nextStatus,
  type SourceContract,
  sourceVersionOf,
} from '../../../lib/domain/contract-lifecycle';
import { CONTRACT_EVENT_TYPES, type ContractEventType } from '../../../lib/domain/events';
import { canonicalJson, sha256Hex } from '../../../lib/domain/ids';

const RUNS = { numRuns: 300, seed: 20261123 } as const;

const terms: ContractTerms = {
  productId: 'prod-1',
  offerId: 'offer-1',
  offerType: 'private',
  plan: null,
  quantity: null,
  buyer: { accountId: '444455556666', name: null },
  currency: 'USD',
  term: { start: '2026-01-01', end: '2027-01-01' },
  trialEnd: null,
  renewal: false,
  fixedCharges: [{ dimension: 'seats', amountMinor: 1_200_000n }],
  grants: [{ dimension: 'seats', quantity: '10' }],
  usageRates: [],
  installments: [{ date: '2026-01-01', amountMinor: 1_200_000n }],
  reseller: null,
};

function source(status: ContractStatus, overrides: Partial<SourceContract> = {}): SourceContract {
  return {
    externalId: 'license/l-1',
    status,
    statusReason: null,
    terms,
    refs: { license: 'l-1' },
    observedAt: '2026-01-01T10:00:00Z',
    activatedOn: status === 'pending' ? null : '2026-01-01',
    endedOn: status === 'cancelled' || status === 'expired' ? '2026-06-01' : null,
    replacesExternalId: null,
    facts: [],
    ...overrides,
  };
}

const context = {
  contractId: 'ct_1',
  marketplace: 'aws' as const,
  now: '2026-11-23T00:00:00Z',
  raw: null,
  replacesContractId: null,
  knownFactIds: new Set<string>(),
};

function apply(diff: ContractDiff) {
  if (!diff.next) throw new Error('no change');
  return diff.next;
}

describe('nextStatus', () => {
  it('allows exactly the documented transitions', () => {
    expect(nextStatus(null, 'ContractCreated')).toBe('pending');
    expect(nextStatus('pending', 'ContractActivated')).toBe('active');
    expect(nextStatus('active', 'ContractSuspended')).toBe('suspended');
    expect(nextStatus('suspended', 'ContractReinstated')).toBe('active');
    expect(nextStatus('active', 'ContractCancelled')).toBe('cancelled');
    expect(nextStatus('suspended', 'ContractExpired')).toBe('expired');
    expect(nextStatus('active', 'ContractAmended')).toBe('active');
    expect(nextStatus('cancelled', 'RefundIssued')).toBe('cancelled');
    for (const [from, type] of [
      ['cancelled', 'ContractActivated'],
      ['expired', 'ContractReinstated'],
      ['active', 'ContractCreated'],
      ['active', 'ContractReinstated'],
      ['cancelled', 'ContractAmended'],
    ] as const) {
      expect(() => nextStatus(from, type), `${from} ${type}`).toThrow(
        InvalidContractTransitionError,
      );
    }
    expect(() => nextStatus(null, 'InvoiceIssued')).toThrow(/not yet created/);
  });

  it('never leaves a terminal status once reached, whatever events follow', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...CONTRACT_EVENT_TYPES), { maxLength: 20 }),
        (types: ContractEventType[]) => {
          let status: ContractStatus | null = null;
          let terminal: ContractStatus | null = null;
          for (const type of types) {
            try {
              status = nextStatus(status, type);
            } catch (error) {
              expect(error).toBeInstanceOf(InvalidContractTransitionError);
              continue;
            }
            if (terminal) expect(status).toBe(terminal);
            if (status === 'cancelled' || status === 'expired') terminal = status;
          }
        },
      ),
      RUNS,
    );
  });
});

describe('diffContract', () => {
  it('creates then walks the shortest legal path to the source status', () => {
    expect(diffContract(null, source('active'), context).events.map((e) => e.type)).toEqual([
      'ContractCreated',
      'ContractActivated',
    ]);
    expect(diffContract(null, source('pending'), context).events.map((e) => e.type)).toEqual([
      'ContractCreated',
    ]);
    expect(
      diffContract(null, source('expired'), context).events.map(
        (e) => `${e.type}@${e.effectiveAt}`,
      ),
    ).toEqual([
      'ContractCreated@2026-01-01',
      'ContractActivated@2026-01-01',
      'ContractExpired@2026-06-01',
    ]);
  });

  it('is idempotent: the same read applied again produces nothing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ContractStatus>('pending', 'active', 'suspended', 'cancelled', 'expired'),
        (status) => {
          const first = apply(diffContract(null, source(status), context));
          const again = diffContract(first, source(status), context);
          expect(again.events).toEqual([]);
          expect(again.next).toBeNull();
        },
      ),
      RUNS,
    );
  });

  it('gives events deterministic ids from (contract, type, source version)', () => {
    const a = diffContract(null, source('active'), context);
    const b = diffContract(null, source('active'), { ...context, now: '2030-01-01T00:00:00Z' });
    expect(a.events.map((e) => e.eventId)).toEqual(b.events.map((e) => e.eventId));
    const changed = diffContract(
      null,
      source('active', { terms: { ...terms, plan: 'gold' } }),
      context,
    );
    expect(changed.events[0]?.eventId).not.toBe(a.events[0]?.eventId);
  });

  it('keeps the version marker of stored contracts: the hash of the canonical {status, terms}', () => {
    for (const status of ['pending', 'active', 'suspended', 'cancelled', 'expired'] as const) {
      for (const variant of [terms, { ...terms, plan: 'gold', trialEnd: null, renewal: true }]) {
        const read = source(status, { terms: variant });
        expect(sourceVersionOf(read)).toBe(
          sha256Hex(canonicalJson({ status, terms: ContractTermsSchema.encode(variant) })).slice(
            0,
            20,
          ),
        );
      }
    }
  });

  it('gives a return to an earlier state new ids (plan A→B→A, suspend twice): nothing collides', () => {
    const plans = ['gold', 'silver', 'gold', 'silver', 'gold'];
    const statuses: ContractStatus[] = ['active', 'suspended', 'active', 'suspended', 'active'];
    let current = apply(diffContract(null, source('active'), context));
    const ids = new Set<string>();
    for (const [i, plan] of plans.entries()) {
      const next = diffContract(
        current,
        source(statuses[i] ?? 'active', { terms: { ...terms, plan } }),
        context,
      );
      expect(next.events.length).toBeGreaterThan(0);
      for (const event of next.events) {
        expect(ids.has(event.eventId)).toBe(false);
        ids.add(event.eventId);
      }
      // A redelivery of the same read against the snapshot it was computed from: same ids.
      const redelivered = diffContract(
        current,
        source(statuses[i] ?? 'active', { terms: { ...terms, plan } }),
        context,
      );
      expect(redelivered.events.map((e) => e.eventId)).toEqual(next.events.map((e) => e.eventId));
      current = apply(next);
    }
    expect(ids.size).toBe(9);
  });

  it('emits Amended for changed terms and Renewed when a new term starts at the old end', () => {
    const current = apply(diffContract(null, source('active'), context));
    const amended = diffContract(
      current,
      source('active', { terms: { ...terms, grants: [{ dimension: 'seats', quantity: '20' }] } }),
      context,
    );
    expect(amended.events.map((e) => e.type)).toEqual(['ContractAmended']);
    expect(amended.next?.version).toBe(2);
    const renewed = diffContract(
      current,
      source('active', { terms: { ...terms, term: { start: '2027-01-01', end: '2028-01-01' } } }),
      context,
    );
    expect(renewed.events.map((e) => e.type)).toEqual(['ContractRenewed']);
  });

  it('carries terms settled at activation on ContractActivated, not as an amendment', () => {
    const pending = apply(diffContract(null, source('pending'), context));
    const settled = { ...terms, term: { start: '2026-02-01', end: '2027-02-01' } };
    const activated = diffContract(pending, source('active', { terms: settled }), context);
    expect(activated.events.map((e) => e.type)).toEqual(['ContractActivated']);
    expect(activated.events[0]?.payload).toMatchObject({ terms: settled });
    expect(activated.next?.terms).toEqual(settled);
    // Unchanged terms: the activation says so with null.
    const plain = diffContract(pending, source('active'), context);
    expect(plain.events[0]?.payload).toEqual({ reason: null, terms: null });
    // Terms changing while still pending, or on a pending contract that ends unactivated, are
    // amendments (no activation carries them).
    expect(
      diffContract(pending, source('pending', { terms: settled }), context).events.map(
        (e) => e.type,
      ),
    ).toEqual(['ContractAmended']);
  });

  it('refuses impossible moves with a typed error (cancelled cannot become active)', () => {
    const cancelled = apply(diffContract(null, source('cancelled'), context));
    expect(() => diffContract(cancelled, source('active'), context)).toThrow(
      InvalidContractTransitionError,
    );
  });

  it('records a fact once: known fact ids are skipped', () => {
    const current = apply(diffContract(null, source('active'), context));
    const withRefund = source('active', {
      facts: [
        {
          type: 'RefundIssued',
          sourceVersion: 'ba-1',
          occurredAt: '2026-02-01T00:00:00Z',
          effectiveAt: '2026-02-01',
          payload: { refundId: 'ba-1', currency: 'USD', amountMinor: 500n, reason: null },
        },
      ],
    });
    const first = diffContract(current, withRefund, context);
    expect(first.events.map((e) => e.type)).toEqual(['RefundIssued']);
    const known = new Set(first.events.map((e) => e.eventId));
    expect(
      diffContract(apply(first), withRefund, { ...context, knownFactIds: known }).next,
    ).toBeNull();
  });

  it('updates refs and learned links without inventing events', () => {
    const current = apply(diffContract(null, source('active'), context));
    const linked = diffContract(
      current,
      source('active', { refs: { license: 'l-1', customerIdentifier: 'C1' } }),
      context,
    );
    expect(linked.events).toEqual([]);
    expect(linked.next?.refs).toEqual({ license: 'l-1', customerIdentifier: 'C1' });
    const replaced = diffContract(current, source('active'), {
      ...context,
      replacesContractId: 'ct_0',
    });
    expect(replaced.next?.replacesContractId).toBe('ct_0');
  });
});
