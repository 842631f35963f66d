// Proves that a sync rebuilds a source made of the stored contract from the snapshot it reads (before the first diff and after a lost race): a refund (AWS billing adjustment) or an unsubscribe applied after a concurrent amendment keeps the amendment instead of writing the old terms back.
import { describe, expect, it } from 'vitest';
import type { ContractChange } from '../../../lib/app/ports';
import { applySource, type SyncDeps } from '../../../lib/app/sync';
import { type ContractSnapshot, contractIdFor } from '../../../lib/domain/contract';
import { endedSource } from '../../../lib/marketplaces/aws/adapter';
import { sourceFromSnapshot } from '../../../lib/marketplaces/aws/source';
import { contract, InMemoryContractStore } from './metering-fakes';

const AMENDED_RATES = [{ dimension: 'api', unitPrice: '0.02' }];

/** An AWS billing adjustment's refund: a source made of the stored contract plus the fact. */
function refundOf(stored: ContractSnapshot, refundId: string, amountMinor: bigint) {
  return sourceFromSnapshot(stored, [
    {
      type: 'RefundIssued',
      sourceVersion: refundId,
      occurredAt: '2026-02-01T00:00:00Z',
      effectiveAt: '2026-02-01',
      payload: { refundId, currency: 'USD', amountMinor, reason: 'credit' },
    },
  ]);
}

/** A store where another writer amends the contract just before our first commit lands. */
class RacingContractStore extends InMemoryContractStore {
  private raced = false;

  override async commit(change: ContractChange): Promise<void> {
    if (!this.raced) {
      this.raced = true;
      const current = this.snapshots.get(change.contractId) as ContractSnapshot;
      this.snapshots.set(change.contractId, amendedOf(current));
    }
    return super.commit(change);
  }
}

/** What another writer made of the contract: new usage rates, the next version. */
function amendedOf(snapshot: ContractSnapshot): ContractSnapshot {
  return {
    ...snapshot,
    version: snapshot.version + 1,
    sourceVersion: 'amended-by-another-writer',
    terms: { ...snapshot.terms, usageRates: AMENDED_RATES },
  };
}

function storedContract(id: string): ContractSnapshot {
  const base = contract(id, 'aws');
  return { ...base, contractId: contractIdFor('aws', base.externalId) };
}

function depsOf(contracts: InMemoryContractStore): SyncDeps {
  return {
    contracts,
    hooks: [],
    adapters: {},
    clock: { now: () => '2026-02-01T00:00:00.000Z' },
  } as unknown as SyncDeps;
}

function setUp() {
  const stored = storedContract('race');
  const contracts = new RacingContractStore([stored]);
  return { stored, contracts, deps: depsOf(contracts) };
}

describe('applySource of a source built from an older snapshot', () => {
  it('rebuilds it from the stored contract before the first diff', async () => {
    const stored = storedContract('gap');
    // The adapter read the contract, then another writer amended it before applySource ran.
    const refund = refundOf(stored, 'adj-2', 300n);
    const contracts = new InMemoryContractStore([amendedOf(stored)]);
    const outcome = await applySource(depsOf(contracts), 'aws', null, refund);
    expect(outcome.events).toEqual(['RefundIssued']);
    expect(contracts.snapshots.get(stored.contractId)?.terms.usageRates).toEqual(AMENDED_RATES);
  });
});

describe('applySource after a lost race', () => {
  it('a refund built from the stored contract keeps the concurrent amendment', async () => {
    const { stored, contracts, deps } = setUp();
    const refund = refundOf(stored, 'adj-1', 500n);
    const outcome = await applySource(deps, 'aws', null, refund);
    expect(outcome.events).toEqual(['RefundIssued']);
    const after = contracts.snapshots.get(stored.contractId);
    expect(after?.terms.usageRates).toEqual(AMENDED_RATES);
    expect(after?.version).toBe(stored.version + 2);
  });

  it('an unsubscribe made of the stored contract ends the amended contract, terms kept', async () => {
    const { stored, contracts, deps } = setUp();
    const unsubscribed = endedSource(
      sourceFromSnapshot(stored, []),
      'unsubscribed',
      '2026-02-01T00:00:00Z',
    );
    const outcome = await applySource(deps, 'aws', null, unsubscribed);
    expect(outcome.events).toContain('ContractCancelled');
    expect(outcome.events).not.toContain('ContractAmended');
    const after = contracts.snapshots.get(stored.contractId);
    expect(after?.status).toBe('cancelled');
    expect(after?.terms.usageRates).toEqual(AMENDED_RATES);
  });
});
