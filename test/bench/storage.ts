/**
 * Storage cost benchmark (issue 16): DynamoDB capacity per contract event and per contract per
 * month-end run, from `ReturnConsumedCapacity: 'TOTAL'` on every call of the local stack's
 * client (DynamoDB Local reports consumed capacity like the service does, item sizes rounded up
 * to 1 KB per write unit, transactional writes at twice the units).
 *
 * Contracts: 36-month AWS agreements with monthly installments, started on the first day of the
 * previous month, delivered one at a time (ingest → sync → apply: ContractCreated +
 * ContractActivated). Then the billing run of today (an InvoiceIssued per installment due, with
 * its revenue postings) and the recognition run of the previous month.
 *
 *   node --import tsx test/bench/storage.ts [--contracts 20]
 */
import { runBilling, runRecognition } from '../../lib/app/revenue/runs';
import { dateOfInstant } from '../../lib/domain/calendar';
import { getContainer } from '../../lib/runtime/container';
import { argument, type BenchResult, benchMain, fmt, table } from './common';
import {
  benchAgreement,
  type CapacityTotals,
  deliverEventBridge,
  meterCapacity,
  resetCapacity,
  startBenchStack,
} from './stack-helpers';

export const WCU_PER_EVENT_MAX = 20;

export async function benchStorage(contracts: number): Promise<BenchResult> {
  const bench = await startBenchStack();
  try {
    const { stack } = bench;
    const totals = meterCapacity();
    const today = dateOfInstant(new Date().toISOString());
    const previous = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)) - 2, 1))
      .toISOString()
      .slice(0, 10);
    const period = previous.slice(0, 7);
    const admin = await bench.token(['admin']);
    const snap = (t: CapacityTotals) => ({ ...t });

    // 1. Ingest + sync + apply, one contract at a time.
    let ingest = { write: 0, read: 0, writeCalls: 0, calls: 0, transactions: 0 };
    let apply = { write: 0, read: 0, writeCalls: 0, calls: 0, transactions: 0 };
    let events = 0;
    for (let n = 0; n < contracts; n += 1) {
      const { agreement, contractId, notification } = benchAgreement(n, { start: previous });
      stack.awsSimulator.upsertAgreement(agreement);
      resetCapacity(totals);
      await deliverEventBridge(stack, notification);
      const afterIngest = snap(totals);
      await stack.settle();
      const all = snap(totals);
      ingest = add(ingest, afterIngest);
      apply = add(apply, minus(all, afterIngest));
      const response = await fetch(`${stack.url}/v1/contracts/${contractId}/events?limit=200`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      const body = (await response.json()) as { items: unknown[] };
      events += body.items.length;
    }
    if (events === 0) throw new Error('storage bench: no contract events were applied');

    // 2. The billing run of today: one InvoiceIssued per installment due.
    resetCapacity(totals);
    const container = getContainer();
    const billing = await runBilling(container, today);
    const billed = snap(totals);
    // 3. The month-end recognition run of the previous month.
    resetCapacity(totals);
    const recognition = await runRecognition(container, period);
    const recognized = snap(totals);
    const billingSummary = billing as unknown as Record<string, unknown>;
    const invoices = Number(billingSummary.invoices ?? 0);
    const perInvoice = invoices > 0 ? billed.write / invoices : Number.NaN;

    const perEvent = apply.write / events;
    const perApplyTransactions = apply.transactions / contracts;
    const per = (value: number, count: number) => (count > 0 ? fmt(value / count, 1) : '—');
    const markdown = [
      `${contracts} AWS agreements (36 monthly installments, started ${previous}) delivered one at a time through the local stack; every DynamoDB call carries \`ReturnConsumedCapacity: 'TOTAL'\` and the units DynamoDB Local reports are summed. ${events} contract events applied (${(events / contracts).toFixed(1)} per contract).`,
      '',
      table(
        ['Step', 'Write units', 'Read units', 'Write calls', 'Transactions', 'Per'],
        [
          [
            'Ingest (store the raw notification, enqueue), per notification',
            per(ingest.write, contracts),
            per(ingest.read, contracts),
            per(ingest.writeCalls, contracts),
            per(ingest.transactions, contracts),
            'notification',
          ],
          [
            '**Sync + apply**, per contract event',
            `**${per(apply.write, events)}**`,
            per(apply.read, events),
            per(apply.writeCalls, events),
            per(apply.transactions, events),
            'event',
          ],
          [
            'Sync + apply, per contract change (one notification)',
            per(apply.write, contracts),
            per(apply.read, contracts),
            per(apply.writeCalls, contracts),
            per(apply.transactions, contracts),
            'change',
          ],
          [
            `Billing run (${today}): ${invoices} InvoiceIssued events (${fmt(perInvoice, 1)} WCU each)`,
            per(billed.write, contracts),
            per(billed.read, contracts),
            per(billed.writeCalls, contracts),
            per(billed.transactions, contracts),
            'contract',
          ],
          [
            `Recognition run (${period}): ${recognition.contracts} contracts, ${recognition.entriesPosted} entries`,
            per(recognized.write, contracts),
            per(recognized.read, contracts),
            per(recognized.writeCalls, contracts),
            per(recognized.transactions, contracts),
            'contract',
          ],
        ],
      ),
      '',
      `Month-end per contract: the billing run (${per(billed.write, contracts)} WCU for ${per(invoices, contracts)} invoices) plus the recognition run (${per(recognized.write, contracts)} WCU). A change is written as one TransactWriteItems (DynamoDB bills transactional writes at 2 units per KB); the creation change carries the snapshot, both events, the 36-month schedule and the book, which is why it costs more than an invoice.`,
    ].join('\n');
    return {
      name: 'storage',
      title: 'Storage cost: DynamoDB capacity units',
      markdown,
      targets: [
        {
          target: 'A contract change is one transaction',
          measured: `${perApplyTransactions.toFixed(2)} transactions per change (${per(apply.writeCalls, contracts)} write calls)`,
          met: perApplyTransactions <= 1.0001,
        },
        {
          target: `≤ ${WCU_PER_EVENT_MAX} WCU per typical contract event (monthly InvoiceIssued)`,
          measured: `${fmt(perInvoice, 1)} WCU per InvoiceIssued`,
          met: perInvoice <= WCU_PER_EVENT_MAX,
        },
        {
          target: `≤ ${WCU_PER_EVENT_MAX} WCU per event of a new 36-month contract (ContractCreated + ContractActivated)`,
          measured: `${perEvent.toFixed(1)} WCU per event (${per(apply.write, contracts)} per change)`,
          met: perEvent <= WCU_PER_EVENT_MAX,
        },
      ],
      numbers: {
        wcuPerEvent: perEvent,
        wcuPerInvoice: perInvoice,
        transactionsPerChange: perApplyTransactions,
        billingWcuPerContract: billed.write / contracts,
        recognitionWcuPerContract: recognized.write / contracts,
      },
    };
  } finally {
    await bench.stop();
  }
}

type Totals = Omit<CapacityTotals, never>;
function add(a: Totals, b: Totals): Totals {
  return {
    write: a.write + b.write,
    read: a.read + b.read,
    calls: a.calls + b.calls,
    writeCalls: a.writeCalls + b.writeCalls,
    transactions: a.transactions + b.transactions,
  };
}
function minus(a: Totals, b: Totals): Totals {
  return {
    write: a.write - b.write,
    read: a.read - b.read,
    calls: a.calls - b.calls,
    writeCalls: a.writeCalls - b.writeCalls,
    transactions: a.transactions - b.transactions,
  };
}

benchMain(import.meta.url, () => benchStorage(Number(argument('--contracts', '20'))));
