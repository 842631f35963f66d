/**
 * Revenue in the pipeline's apply transaction: when a contract starts (or its priced terms
 * change) a new schedule version is stored with its book; an InvoiceIssued event posts the
 * invoice and the marketplace fee. Everything lands in the same commit as the contract change,
 * so a contract never exists without the revenue it implies, and a retry converges.
 * A contract whose revenue cannot be computed (no fee rule, no FX rate) still applies: the
 * problem is recorded on it for finance instead of blocking the marketplace's change.
 */

import type { ContractSnapshot } from '../../domain/contract';
import { AgoraError } from '../../domain/errors';
import type { ContractEvent } from '../../domain/events';
import { canonicalJson } from '../../domain/ids';
import type { JournalEntry } from '../../domain/ledger';
import { applyEntry, type ContractBook, emptyBook } from '../../domain/revenue/book';
import {
  disbursementPosting,
  installmentPostings,
  type PostingContext,
  scheduleFor,
} from '../../domain/revenue/postings';
import {
  type RevenueContract,
  revenueContractFromTerms,
  serviceStart,
} from '../../domain/revenue/revenue-contract';
import type { LedgerStore, RevenueIssue, StoredSchedule } from '../ports';
import type { ApplyHook } from '../sync';
import type { RevenueSettings } from './settings';

/** Statuses with a revenue contract: accepted, whatever happened since. */
const HAS_REVENUE = new Set(['active', 'suspended', 'cancelled', 'expired']);

export function postingContext(
  settings: RevenueSettings,
  contract: RevenueContract,
): PostingContext {
  return {
    contract,
    policies: settings.policies,
    feeTable: settings.feeTable,
    functionalCurrency: settings.functionalCurrency,
    rate: settings.rate,
  };
}

function acceptedOn(
  next: ContractSnapshot,
  events: readonly ContractEvent[],
  previous: StoredSchedule | null,
): string {
  const activated = events.find((e) => e.type === 'ContractActivated');
  return activated?.effectiveAt ?? previous?.contract.acceptedOn ?? next.terms.term.start;
}

export function revenueApplyHook(ledger: LedgerStore, settings: RevenueSettings): ApplyHook {
  return {
    name: 'revenue',
    async contribute({ next, events, now }) {
      if (!HAS_REVENUE.has(next.status)) return {};
      const invoices = events.filter((e) => e.type === 'InvoiceIssued');
      const payouts = events.filter((e) => e.type === 'DisbursementReceived');
      const latest = await ledger.latestSchedule(next.contractId);
      let contract: RevenueContract;
      try {
        contract = revenueContractFromTerms(
          next.contractId,
          next.marketplace,
          next.terms,
          acceptedOn(next, events, latest),
        );
      } catch (error) {
        return { revenueIssue: issueOf(error, now) };
      }
      const changed = latest === null || canonicalJson(latest.contract) !== canonicalJson(contract);
      if (!changed && invoices.length === 0 && payouts.length === 0) return {};
      const stored = await ledger.book(next.contractId);
      let book: ContractBook = stored ?? emptyBook(next.contractId);
      let schedule: StoredSchedule | null = null;
      let current = latest;
      if (changed) {
        const built = scheduleFor(
          postingContext(settings, contract),
          (latest?.schedule.version ?? 0) + 1,
        );
        schedule = built
          ? { schedule: built, contract, contractVersion: next.version, createdAt: now }
          : null;
        // No ratable schedule (usage only, open term): the terms are still kept for billing.
        if (!built) {
          schedule = {
            schedule: {
              contractId: next.contractId,
              version: (latest?.schedule.version ?? 0) + 1,
              currency: contract.currency,
              totalMinor: 0n,
              service: {
                start: serviceStart(contract),
                end: contract.term.end ?? serviceStart(contract),
              },
              lines: [],
            },
            contract,
            contractVersion: next.version,
            createdAt: now,
          };
        }
        current = schedule;
      }
      const entries: JournalEntry[] = [];
      try {
        for (const invoice of invoices) {
          const index = installmentIndexOf(invoice, current?.contract ?? contract);
          if (index === null) continue;
          for (const entry of installmentPostings(
            postingContext(settings, current?.contract ?? contract),
            book,
            index,
          )) {
            entries.push(entry);
            book = applyEntry(book, entry);
          }
        }
        for (const payout of payouts) {
          if (payout.type !== 'DisbursementReceived') continue;
          const entry = disbursementPosting(
            postingContext(settings, current?.contract ?? contract),
            {
              disbursementId: payout.payload.disbursementId,
              date: payout.effectiveAt,
              currency: payout.payload.currency,
              amountMinor: payout.payload.amountMinor,
            },
          );
          if (entry) {
            entries.push(entry);
            book = applyEntry(book, entry);
          }
        }
      } catch (error) {
        return { revenueIssue: issueOf(error, now) };
      }
      return {
        ledger: {
          contractId: next.contractId,
          entries,
          book,
          expectedEntryCount: stored ? stored.entryCount : null,
          schedule,
          at: now,
        },
      };
    },
  };
}

function installmentIndexOf(event: ContractEvent, contract: RevenueContract): number | null {
  if (event.type !== 'InvoiceIssued') return null;
  const match = /^inst-(\d+)-/.exec(event.payload.invoiceId);
  if (!match) return null;
  const index = Number(match[1]) - 1;
  return index >= 0 && index < contract.installments.length ? index : null;
}

function issueOf(error: unknown, at: string): RevenueIssue {
  if (error instanceof AgoraError) return { code: error.code, message: error.message, at };
  throw error;
}
