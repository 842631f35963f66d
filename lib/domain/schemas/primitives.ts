/**
 * Shared zod building blocks for the canonical model. Money crosses every boundary as a string
 * of minor units and lives in memory as `bigint` (a zod codec does both directions); rates and
 * quantities are decimal strings. Nothing here accepts a JSON number for money.
 */
import { z } from 'zod';
import { isCalendarDate, isPeriod } from '../calendar';
import { isKnownCurrency, parseDecimal } from '../money';

export const MARKETPLACES = ['aws', 'azure', 'gcp'] as const;
export const MarketplaceSchema = z.enum(MARKETPLACES).describe('Marketplace id');
export type Marketplace = z.infer<typeof MarketplaceSchema>;

/** Longest id we accept from outside (marketplace ids are well under this). */
export const EXTERNAL_ID_LENGTH_MAX = 512;

export const IdSchema = z.string().min(1).max(EXTERNAL_ID_LENGTH_MAX);

export const CurrencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'ISO 4217 code, e.g. USD', abort: true })
  .refine(isKnownCurrency, { message: 'Unknown ISO 4217 currency' })
  .describe('ISO 4217 currency code');

export const MINOR_UNITS_PATTERN = /^-?\d{1,38}$/;

/** Signed minor units: "1019178" ↔ 1019178n. */
export const MinorUnitsSchema = z
  .codec(
    z
      .string()
      .regex(MINOR_UNITS_PATTERN, 'Integer minor units as a string, e.g. "1019178"')
      .describe('Amount in minor units of its currency, as a string'),
    z.bigint(),
    { decode: (text) => BigInt(text), encode: (value) => value.toString() },
  )
  .describe('Amount in minor units of its currency, as a string');

/** Non-negative minor units. */
export const NonNegativeMinorUnitsSchema = MinorUnitsSchema.refine((v) => v >= 0n, {
  message: 'Must not be negative',
});

export const DecimalStringSchema = z
  .string()
  .regex(/^[+-]?\d{1,30}(?:\.\d{1,18})?$/, {
    message: 'Decimal number as a string, e.g. "0.002"',
    // One problem per field: the parse below only makes sense on a well-formed number.
    abort: true,
  })
  .refine(
    (text) => {
      try {
        parseDecimal(text);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'Not a decimal number' },
  )
  .describe('Exact decimal as a string');

export const CalendarDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'Calendar date YYYY-MM-DD', abort: true })
  .refine(isCalendarDate, { message: 'Calendar date YYYY-MM-DD' })
  .describe('UTC calendar date, YYYY-MM-DD');

export const PeriodSchema = z
  .string()
  .regex(/^\d{4}-\d{2}$/, { message: 'Period YYYY-MM', abort: true })
  .refine(isPeriod, { message: 'Period YYYY-MM' })
  .describe('Calendar month, YYYY-MM');

export const InstantSchema = z.iso.datetime({ offset: true }).describe('ISO-8601 instant');

/** Half-open [start, end) in UTC dates; a null end is an open (pay-as-you-go) term. */
export const DateIntervalSchema = z
  .object({ start: CalendarDateSchema, end: CalendarDateSchema.nullable() })
  .refine((v) => v.end === null || v.end >= v.start, {
    message: 'end must not be before start',
    path: ['end'],
  });

/** An exact rational as "num/den" in lowest terms (weights, shares): "1/3" ↔ {num: 1n, den: 3n}. */
export const RationalStringSchema = z
  .codec(
    z
      .string()
      .regex(/^-?\d{1,80}\/[1-9]\d{0,80}$/, 'An exact fraction "num/den", e.g. "1/3"')
      .describe('Exact fraction "num/den"'),
    z.object({ num: z.bigint(), den: z.bigint() }),
    {
      decode: (text) => {
        const [num = '0', den = '1'] = text.split('/');
        return { num: BigInt(num), den: BigInt(den) };
      },
      encode: (value) => `${value.num}/${value.den}`,
    },
  )
  .describe('Exact fraction "num/den"');
