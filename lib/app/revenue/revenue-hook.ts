/**
 * Revenue in the pipeline's apply transaction. A contract that starts gets its first schedule;
 * a change to its priced terms is a modification (prospective by default, rule 11) or an
 * in-place renewal; a cancellation stops recognition; an InvoiceIssued, RefundIssued or
 * DisbursementReceived event posts its entries. Everything lands in the same commit as the
 * contract change, so a contract never exists without the revenue it implies, and a retry
 * converges. A contract whose revenue cannot be computed (no fee rule, no FX rate) still
 * applies: the problem is recorded on it for finance instead of blocking the marketplace.
 */
import { type CalendarDate, compareDates, dateOfInstant } from '../../domain/calendar';
import type { ContractSnapshot } from '../../domain/contract';
import { AgoraError } from '../../domain/errors';
import type { ContractEvent } from '../../domain/events';
import { canonicalJson } from '../../domain/ids';
import type { JournalEntry } from '../../domain/ledger';
import { applyEntry, type ContractBook, emptyBook } from '../../domain/revenue/book';
import {
  amendRevenue,
  cancelRevenue,
  pricedTermsOf,
  type RevenueState,
  refundRevenue,
  renewInPlace,
  startRevenue,
} from '../../domain/revenue/lifecycle';
import {
  disbursementPosting,
  installmentPostings,
  type PostingContext,
  refundPostings,
  refundSplit,
} from '../../domain/revenue/postings';
import {
  type RevenueContract,
  revenueContractFromTerms,
  serviceStart,
} from '../../domain/revenue/revenue-contract';
import type { RevenueSchedule } from '../../domain/revenue/schedule';
import type { LedgerStore, RevenueIssue, StoredSchedule } from '../ports';
import type { ApplyHook } from '../sync';
import type { RevenueSettings } from './settings';

/** Statuses with a revenue contract: accepted, whatever happened since. */
const HAS_REVENUE = new Set(['active', 'suspended', 'cancelled', 'expired']);

/** A contract in one of these statuses has terms in force, so it has a book and a schedule. */
export function hasRevenue(status: string): boolean {
  return HAS_REVENUE.has(status);
}

/**
 * The posting context of a contract. Rule 14: entries dated in a locked period post in the
 * first open one — for the pipeline a soft-frozen month is locked too; for the month-end run
 * and finance it is not.
 */
export function postingContext(
  settings: RevenueSettings,
  contract: RevenueContract,
  poster: 'pipeline' | 'run' = 'pipeline',
): PostingContext {
  return {
    contract,
    policies: settings.policies,
    feeTable: settings.feeTable,
    functionalCurrency: settings.functionalCurrency,
    rate: settings.rate,
    firstOpenPeriod: settings.firstOpenPeriod?.(poster) ?? null,
  };
}

/** The revenue state a stored schedule version belongs to. */
export function stateOf(stored: StoredSchedule): RevenueState {
  return {
    contract: stored.contract,
    schedule: stored.schedule.segments.length > 0 ? stored.schedule : null,
    cancelledOn: stored.cancelledOn,
    refundedMinor: stored.refundedMinor,
    considerations: stored.considerations,
  };
}

function emptySchedule(contract: RevenueContract, version: number): RevenueSchedule {
  const start = serviceStart(contract);
  return {
    contractId: contract.contractId,
    version,
    currency: contract.currency,
    totalMinor: 0n,
    service: { start, end: contract.term.end ?? start },
    segments: [],
    lines: [],
  };
}

export function storedOf(
  state: RevenueState,
  fingerprint: string,
  contractVersion: number,
  createdAt: string,
  version: number,
): StoredSchedule {
  // Stored versions count up per contract, whatever the lifecycle numbered them.
  return {
    schedule: { ...(state.schedule ?? emptySchedule(state.contract, version)), version },
    contract: state.contract,
    cancelledOn: state.cancelledOn,
    refundedMinor: state.refundedMinor,
    considerations: state.considerations,
    termsFingerprint: fingerprint,
    contractVersion,
    createdAt,
  };
}

function acceptedOn(
  next: ContractSnapshot,
  events: readonly ContractEvent[],
  previous: StoredSchedule | null,
): CalendarDate {
  const activated = events.find((e) => e.type === 'ContractActivated');
  return activated?.effectiveAt ?? previous?.contract.acceptedOn ?? next.terms.term.start;
}

/** The new revenue state after a change to the priced terms (modification or renewal). */
function modified(
  ctxFor: (c: RevenueContract) => PostingContext,
  state: RevenueState,
  terms: RevenueContract,
  at: CalendarDate,
): RevenueState {
  const oldEnd = state.contract.term.end;
  if (
    oldEnd !== null &&
    terms.term.end !== null &&
    compareDates(terms.term.end, oldEnd) > 0 &&
    compareDates(at, oldEnd) >= 0
  ) {
    return renewInPlace(ctxFor, state, terms);
  }
  const effective = oldEnd !== null && compareDates(at, oldEnd) >= 0 ? oldEnd : at;
  const newEnd = terms.term.end;
  return amendRevenue(ctxFor, state, {
    effectiveAt: effective,
    // An installment on or after a shortened end (an AWS agreement replaced mid-term) is never
    // billed: it is not consideration, so it must not be recognized either.
    installments: terms.installments.filter(
      (i) =>
        compareDates(i.date, effective) >= 0 &&
        (newEnd === null || compareDates(i.date, newEnd) < 0),
    ),
    tcvMinor: terms.tcvMinor,
    termEnd: terms.term.end,
  });
}

export function revenueApplyHook(ledger: LedgerStore, settings: RevenueSettings): ApplyHook {
  return {
    name: 'revenue',
    async contribute({ next, events, now, origin }) {
      if (!HAS_REVENUE.has(next.status)) return {};
      await settings.prepare?.();
      const ctxFor = (contract: RevenueContract) => postingContext(settings, contract);
      const latest = await ledger.latestSchedule(next.contractId);
      const stored = await ledger.book(next.contractId);
      let book: ContractBook = stored ?? emptyBook(next.contractId);
      const entries: JournalEntry[] = [];
      const post = (list: readonly (JournalEntry | null)[]) => {
        for (const entry of list) {
          if (!entry) continue;
          entries.push(entry);
          book = applyEntry(book, entry);
        }
      };
      let state: RevenueState | null = latest ? stateOf(latest) : null;
      let fingerprint = latest?.termsFingerprint ?? '';
      let changed = false;
      try {
        const terms = revenueContractFromTerms(
          next.contractId,
          next.marketplace,
          next.terms,
          acceptedOn(next, events, latest),
        );
        const termsFingerprint = canonicalJson(pricedTermsOf(terms));
        if (state === null) {
          state = startRevenue(ctxFor, terms);
          changed = true;
        } else if (termsFingerprint !== fingerprint && state.cancelledOn === null) {
          const amended = events.find(
            (e) => e.type === 'ContractAmended' || e.type === 'ContractRenewed',
          );
          state = modified(ctxFor, state, terms, amended?.effectiveAt ?? dateOfInstant(now));
          changed = true;
        }
        fingerprint = termsFingerprint;
        for (const event of events) {
          if (event.type === 'RefundIssued') {
            const split = refundSplit(ctxFor(state.contract), book, event.payload.amountMinor);
            post(
              refundPostings(ctxFor(state.contract), book, {
                refundId: event.payload.refundId,
                date: event.effectiveAt,
                amountMinor: event.payload.amountMinor,
              }),
            );
            state = refundRevenue(
              ctxFor,
              state,
              event.effectiveAt,
              event.payload.amountMinor,
              split.excessMinor,
            );
            changed = true;
          } else if (event.type === 'ContractCancelled' && state.cancelledOn === null) {
            state = cancelRevenue(state, event.effectiveAt);
            changed = true;
          } else if (event.type === 'InvoiceIssued') {
            const index = state.contract.installments.findIndex(
              (i, n) => `inst-${n + 1}-${i.date}` === event.payload.invoiceId,
            );
            if (index >= 0) post(installmentPostings(ctxFor(state.contract), book, index));
          } else if (event.type === 'DisbursementReceived') {
            post([
              disbursementPosting(ctxFor(state.contract), book, {
                disbursementId: event.payload.disbursementId,
                date: event.effectiveAt,
                currency: event.payload.currency,
                amountMinor: event.payload.amountMinor,
                settlesCurrency: event.payload.settlesCurrency,
                settlesMinor: event.payload.settlesMinor,
              }),
            ]);
          }
        }
      } catch (error) {
        if (origin === 'service') throw error;
        return { revenueIssue: issueOf(error, now) };
      }
      if (!changed && entries.length === 0) return {};
      const version = (latest?.schedule.version ?? 0) + 1;
      return {
        ledger: {
          contractId: next.contractId,
          entries,
          book,
          expectedEntryCount: stored ? stored.entryCount : null,
          schedule: changed ? storedOf(state, fingerprint, next.version, now, version) : null,
          at: now,
        },
      };
    },
  };
}

function issueOf(error: unknown, at: string): RevenueIssue {
  if (error instanceof AgoraError) return { code: error.code, message: error.message, at };
  throw error;
}
