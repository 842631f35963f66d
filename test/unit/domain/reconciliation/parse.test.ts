// Proves the reconciliation's fast per-row conversions equal the exact parsers they stand in for: amounts (money.ts parseMajorAmount), dates and timestamps (calendar.ts), that fingerprints tell ids apart, and that the statement store keeps its lines' ids byte for byte (the kernel's byte-level conversions are proven in billing-event-kernel.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateOfInstant, dayNumber } from '../../../../lib/domain/calendar';
import { minorUnitsOf, parseMajorAmount } from '../../../../lib/domain/money';
import { FingerprintTable, fingerprintOf } from '../../../../lib/domain/reconciliation/fingerprint';
import {
  dateOfDay,
  firstDayOfMonthIndex,
  monthIndexOfDay,
  parseAmountMinor,
  parseDay,
  parseDayCached,
  parseInstantMillis,
} from '../../../../lib/domain/reconciliation/parse';
import { StatementStore } from '../../../../lib/domain/reconciliation/store';

function outcome<T>(work: () => T): T | string {
  try {
    return work();
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  }
}

const currencies = fc.constantFrom('USD', 'JPY', 'KWD', 'EUR');
const amountText = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', '-', '+'),
      fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), minLength: 0, maxLength: 18 }),
      fc.option(fc.string({ unit: fc.constantFrom('0', '3', '7'), maxLength: 5 })),
    )
    .map(([sign, whole, fraction]) => `${sign}${whole}${fraction === null ? '' : `.${fraction}`}`),
  fc.string({ unit: fc.constantFrom('1', '.', '-', ',', 'e', ' '), maxLength: 8 }),
);

describe('amounts', () => {
  it('parseAmountMinor equals parseMajorAmount on any text, valid or not', () => {
    fc.assert(
      fc.property(amountText, currencies, (text, currency) => {
        expect(outcome(() => parseAmountMinor(text, currency, minorUnitsOf(currency)))).toEqual(
          outcome(() => parseMajorAmount(text, currency)),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('is exact beyond 2^53 and refuses a third decimal in USD', () => {
    expect(parseAmountMinor('123456789012345678.91', 'USD', 2)).toBe(12345678901234567891n);
    expect(parseAmountMinor('-900.00', 'USD', 2)).toBe(-90000n);
    expect(() => parseAmountMinor('0.005', 'USD', 2)).toThrow(/more decimals/);
  });
});

const dates = fc
  .date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('2199-12-31T23:59:59Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());

describe('dates', () => {
  it('parseDay is the UTC calendar day of any ISO date or timestamp', () => {
    fc.assert(
      fc.property(dates, (instant) => {
        expect(parseDay(instant)).toBe(dayNumber(dateOfInstant(instant)));
        expect(parseDay(instant.slice(0, 10))).toBe(dayNumber(instant.slice(0, 10)));
        expect(dateOfDay(parseDay(instant))).toBe(instant.slice(0, 10));
        expect(parseInstantMillis(instant)).toBe(Date.parse(instant));
      }),
    );
  });

  it('converts a zone offset exactly and refuses impossible dates', () => {
    expect(dateOfDay(parseDay('2025-03-31T22:00:00-05:00'))).toBe('2025-04-01');
    expect(() => parseDay('2025-02-29')).toThrow();
    expect(() => parseDay('2025-04-31T00:00:00Z')).toThrow();
    expect(parseDayCached('2024-02-29')).toBe(dayNumber('2024-02-29'));
  });

  it('months of a day number', () => {
    const day = parseDay('2025-03-17');
    expect(monthIndexOfDay(day)).toBe(2025 * 12 + 3);
    expect(dateOfDay(firstDayOfMonthIndex(2025 * 12 + 4))).toBe('2025-04-01');
    expect(dateOfDay(firstDayOfMonthIndex(2025 * 12 + 13))).toBe('2026-01-01');
  });
});

describe('fingerprints', () => {
  it('different ids differ, whatever their characters', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c)),
          maxLength: 60,
        }),
        (id) => {
          expect(fingerprintOf(`${id}x`)).not.toEqual(fingerprintOf(id));
          // An id with a unit above 0xff (two units a step) differs from its Latin-1 neighbour.
          expect(fingerprintOf(`${id}\u0100`)).not.toEqual(fingerprintOf(`${id}\u0000`));
          expect(fingerprintOf(`${id}\u0100`)).toEqual(fingerprintOf(`${id}\u0100`));
        },
      ),
    );
    // A shorter id padded with a zero code unit is another id (the length is hashed).
    expect(fingerprintOf('ab')).not.toEqual(fingerprintOf('ab\u0000'));
  });

  it('the store keeps the ids of the lines byte for byte, whatever their characters', () => {
    const store = new StatementStore();
    const ids = ['be-1', 'bé-2 ünïcode', '請求-3', '😀-4', 'x'.repeat(300)];
    store.add(
      ids.map((id, i) => ({
        line: i + 2,
        recordId: id,
        version: 0,
        action: 'billed' as const,
        component: 'charge' as const,
        balanceImpacting: true,
        contractKey: null,
        groupKey: null,
        invoiceId: i === 0 ? null : `inv-${id}`,
        parentId: null,
        payoutId: null,
        bankReference: null,
        currency: 'USD',
        amountMinor: BigInt(i * 100 - 150),
        payoutCurrency: null,
        payoutAmountMinor: null,
        invoiceDay: null,
        dueDay: null,
        usageStartDay: null,
        usageEndDay: null,
        eventDay: null,
      })),
    );
    const { lines } = store.resolve();
    const seen = Array.from({ length: lines.count }, (_, line) => {
      const index = lines.identityIndex[line] ?? -1;
      return [
        store.identityRecordId(index),
        store.identityInvoiceId(index),
        lines.charge[line],
      ] as const;
    }).sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
    expect(seen).toEqual(
      ids
        .map((id, i) => [id, i === 0 ? null : `inv-${id}`, BigInt(i * 100 - 150)] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
  });

  it('the table maps fingerprints to values through growth', () => {
    const table = new FingerprintTable(4);
    const ids = Array.from({ length: 5_000 }, (_, i) => fingerprintOf(`be${i}`));
    ids.forEach((fp, i) => {
      expect(table.getOrSet(fp.hi, fp.lo, i)).toBe(-1);
    });
    expect(table.size).toBe(5_000);
    ids.forEach((fp, i) => {
      expect(table.get(fp.hi, fp.lo)).toBe(i);
      expect(table.getOrSet(fp.hi, fp.lo, 99_999)).toBe(i);
    });
    expect(table.set(ids[0]?.hi ?? 0, ids[0]?.lo ?? 0, 7)).toBe(0);
    expect(table.get(ids[0]?.hi ?? 0, ids[0]?.lo ?? 0)).toBe(7);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(ids[1]?.hi ?? 0, ids[1]?.lo ?? 0)).toBe(-1);
    expect(table.getOrSet(ids[1]?.hi ?? 0, ids[1]?.lo ?? 0, 3)).toBe(-1);
  });
});
