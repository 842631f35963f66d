/**
 * The FX rate table (rule 5): data, not code. One item per (pair, date), with its source.
 *
 * Rate: pk FXRATES · sk <BASE>#<QUOTE>#<date> · rate (decimal string) · source · recordedAt
 */
import type { FxRate, FxRateStore } from '../app/ports';
import type { DynamoStore } from './dynamo-store';
import { WriteTransaction } from './transaction';

export const FX_RATES_PARTITION = 'FXRATES';
/** Rates one table may hold (about 27 years of daily rates for ten pairs). */
export const FX_RATES_MAX = 100_000;
export const FX_RATES_PAGE = 1_000;
/** Rates written per transaction (DynamoDB allows 100 actions). */
export const FX_RATES_PER_WRITE = 100;

export type { FxRate };

export class DynamoFxRateStore implements FxRateStore {
  constructor(private readonly store: DynamoStore) {}

  async put(rates: readonly FxRate[], recordedAt: string): Promise<void> {
    // One item per pair and day: within a batch the last record wins, as across batches (a
    // transaction may not touch one item twice).
    const unique = [...new Map(rates.map((r) => [`${r.base}#${r.quote}#${r.date}`, r])).values()];
    for (let start = 0; start < unique.length; start += FX_RATES_PER_WRITE) {
      const tx = new WriteTransaction();
      for (const rate of unique.slice(start, start + FX_RATES_PER_WRITE)) {
        tx.put('fx-rate', {
          pk: FX_RATES_PARTITION,
          sk: `${rate.base}#${rate.quote}#${rate.date}`,
          entity: 'FxRate',
          ...rate,
          recordedAt,
        });
      }
      await this.store.commit(tx);
    }
  }

  async all(): Promise<FxRate[]> {
    const out: FxRate[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query({
        partitionKey: FX_RATES_PARTITION,
        limit: FX_RATES_PAGE,
        cursor,
      });
      for (const item of page.items) {
        out.push({
          date: String(item.date),
          base: String(item.base),
          quote: String(item.quote),
          rate: String(item.rate),
          source: String(item.source ?? ''),
        });
      }
      cursor = page.cursor ?? undefined;
    } while (cursor && out.length < FX_RATES_MAX);
    return out;
  }
}
