/**
 * AssemblyScript source of the billing event feed's WebAssembly kernel (compiled by
 * `npm run build:kernel` into billing-event-kernel.wasm.ts; a unit test checks the two agree).
 *
 * What it does, per plain row of a quote-free ASCII block (a byte-level copy of what
 * billing-event-feed.ts's regular row parser accepts, narrowed to the shapes nearly every row
 * has): finds the separators sixteen bytes at a time (SIMD), fingerprints the ids, parses the
 * amount, the four dates and the update time, and writes the row into output columns (the
 * statement store's own columns copied as they are, store.ts PackedColumns). A row it
 * does not recognise exactly (wrong field count, blank, an unknown action, type or currency, an
 * unusual amount or date, a converted payout) stops the call there: the caller hands that row to
 * the regular parser, which decides it (errors included), then calls again after it.
 *
 * Why WebAssembly: this byte work was ~70 % of a reconciliation's time in JavaScript (bounds
 * checks, no SIMD); the same arithmetic here runs several times faster. Everything it computes
 * is defined by the TypeScript it mirrors (fingerprint.ts, parse.ts); a property test compares
 * the two paths on random rows.
 */

// Layout (bytes from the heap base, all fixed): configuration written by the caller, then the
// output columns, then the input block (with slack for the last vector loads).
const FIELDS_MAX: i32 = 1025;
const DICTIONARY_BYTES: i32 = 4096;
const CURRENCIES_MAX: i32 = 64;
const LAST_BYTES: i32 = 64;
/** Date columns whose last value is kept (four dates and the update time). */
const STAMP_SLOTS: i32 = 5;
const STAMP_SLOT_BYTES: usize = 48;
/** Years the month table covers (yearMin…yearMax must fit: configure refuses more). */
const YEARS_MAX: i32 = 512;
export const ROWS_MAX: i32 = 4096;
export const INPUT_CAPACITY: i32 = 2 << 20;
/** Output columns: i32 ones (see C_*), u8 ones (the store's record kind and flags), and two of
 * eight bytes (the version, f64, and the amount, i64). */
const I32_COLUMNS: i32 = 24;
const U8_COLUMNS: i32 = 2;
const F64_COLUMNS: i32 = 2;

const BASE: usize = (__heap_base + 63) & ~63;
/** bounds[0] = the row's start − 1, bounds[f + 1] = where field f ends (its separator). */
const BOUNDS: usize = BASE;
const DICTIONARY: usize = BOUNDS + <usize>(FIELDS_MAX + 1) * 4;
const CURRENCIES: usize = DICTIONARY + <usize>DICTIONARY_BYTES;
const LAST_AGREEMENT: usize = CURRENCIES + <usize>CURRENCIES_MAX * 8;
const LAST_PAYOUT: usize = LAST_AGREEMENT + <usize>LAST_BYTES;
const OUTPUT: usize = (LAST_PAYOUT + <usize>LAST_BYTES + 63) & ~63;
const OUTPUT_BYTES: usize =
  <usize>ROWS_MAX * (<usize>I32_COLUMNS * 4 + <usize>U8_COLUMNS + <usize>F64_COLUMNS * 8);
const INPUT: usize = OUTPUT + OUTPUT_BYTES;
const STAMPS: usize = INPUT + <usize>INPUT_CAPACITY + 128;
const MONTHS: usize = STAMPS + <usize>STAMP_SLOTS * STAMP_SLOT_BYTES;
const END: usize = MONTHS + <usize>YEARS_MAX * 12 * 8;

/** Why a call stopped: no further complete row, output full, a plain row for the regular parser, a currency to look at. */
export const STOP_END: i32 = 0;
export const STOP_FULL: i32 = 1;
export const STOP_ROW: i32 = 2;
export const STOP_CURRENCY: i32 = 3;
/** A row with a quote or a byte above 0x7f: for a full CSV parser. */
export const STOP_ODD: i32 = 4;

// Output columns, ROWS_MAX entries each, from OUTPUT: the i32 columns (by index), then the u8
// columns (from U8_AT), then the f64 and i64 ones (from F64_AT, I64_AT).
export const C_ID_HI: i32 = 0;
export const C_ID_LO: i32 = 1;
export const C_GROUP_HI: i32 = 2;
export const C_GROUP_LO: i32 = 3;
export const C_PARENT_HI: i32 = 4;
export const C_PARENT_LO: i32 = 5;
export const C_INVOICE_DAY: i32 = 6;
export const C_DUE_DAY: i32 = 7;
export const C_USAGE_START: i32 = 8;
export const C_USAGE_END: i32 = 9;
export const C_EVENT_DAY: i32 = 10;
export const C_KIND: i32 = 11;
export const C_ID_START: i32 = 12;
export const C_ID_END: i32 = 13;
export const C_INVOICE_ID_START: i32 = 14;
export const C_INVOICE_ID_END: i32 = 15;
export const C_AGREEMENT_START: i32 = 16;
export const C_AGREEMENT_END: i32 = 17;
export const C_AGREEMENT_HI: i32 = 18;
export const C_AGREEMENT_LO: i32 = 19;
export const C_PAYOUT_START: i32 = 20;
export const C_PAYOUT_END: i32 = 21;
export const C_BANK_START: i32 = 22;
export const C_BANK_END: i32 = 23;
export const C_RECORD_KIND: i32 = 0;
export const C_RECORD_FLAGS: i32 = 1;
export const U8_AT: i32 = ROWS_MAX * I32_COLUMNS * 4;
export const F64_AT: i32 = U8_AT + ROWS_MAX * U8_COLUMNS;
export const I64_AT: i32 = F64_AT + ROWS_MAX * 8;

// The store's encodings (store.ts): record kind = component | action << 4 | RECORD_BALANCE.
export const RECORD_BALANCE: i32 = 0x80;
export const FLAG_GROUP: i32 = 1;
export const FLAG_PARENT: i32 = 2;

@inline function put(column: i32, row: i32, value: i32): void {
  store<i32>(OUTPUT + ((<usize>column * <usize>ROWS_MAX + <usize>row) << 2), value);
}
@inline function putByte(column: i32, row: i32, value: i32): void {
  store<u8>(OUTPUT + <usize>U8_AT + <usize>column * <usize>ROWS_MAX + <usize>row, <u8>value);
}

// Kind word bits: action (bits 0–3), component (4–7), currency index (8–15), flags above.
export const K_BALANCE: i32 = 1 << 16;
export const K_PARENT: i32 = 1 << 17;
export const K_GROUP: i32 = 1 << 18;
export const K_SAME_AGREEMENT: i32 = 1 << 19;
export const K_SAME_PAYOUT: i32 = 1 << 20;

// Configuration (columns; -1 = absent).
let width: i32 = 0;
let delimiter: i32 = 44;
let rowLengthMax: i32 = 1 << 20;
let yearMin: i32 = 1970;
let yearMax: i32 = 2199;
let disbursedAction: i32 = -1;
let payoutComponent: i32 = -1;
let cId: i32 = -1;
let cAction: i32 = -1;
let cType: i32 = -1;
let cParent: i32 = -1;
let cPayout: i32 = -1;
let cAmount: i32 = -1;
let cCurrency: i32 = -1;
let cBalance: i32 = -1;
let cInvoiceDate: i32 = -1;
let cDueDate: i32 = -1;
let cUsageStart: i32 = -1;
let cUsageEnd: i32 = -1;
let cInvoiceId: i32 = -1;
let cReference: i32 = -1;
let cBankTrace: i32 = -1;
let cAgreement: i32 = -1;
let cUpdate: i32 = -1;
let cPayoutAmount: i32 = -1;
let cPayoutCurrency: i32 = -1;
let currencyCount: i32 = 0;
let lastAgreementLength: i32 = -1;
let lastPayoutLength: i32 = -1;

// Results of the last call.
let stopReason: i32 = 0;
let stopAt: i32 = 0;

export function inputOffset(): usize {
  return INPUT;
}
export function outputOffset(): usize {
  return OUTPUT;
}
export function dictionaryOffset(): usize {
  return DICTIONARY;
}
export function dictionaryBytes(): i32 {
  return DICTIONARY_BYTES;
}
export function memoryNeeded(): usize {
  return END;
}
export function lastStopReason(): i32 {
  return stopReason;
}
export function lastStopAt(): i32 {
  return stopAt;
}

/** Grows the memory to hold the layout; false when it cannot. */
export function prepare(): bool {
  const have = <usize>memory.size() << 16;
  if (have >= END) return true;
  return memory.grow(<i32>((END - have + 65535) >> 16)) >= 0;
}

export function configure(
  fieldCount: i32,
  delimiterCode: i32,
  rowMax: i32,
  minYear: i32,
  maxYear: i32,
  disbursed: i32,
  payout: i32,
): bool {
  if (maxYear < minYear || maxYear - minYear + 1 > YEARS_MAX || minYear < 1) return false;
  for (let year = minYear; year <= maxYear; year++) {
    for (let month = 1; month <= 12; month++) {
      const at = MONTHS + ((<usize>(year - minYear) * 12 + <usize>(month - 1)) << 3);
      store<i32>(at, civilDay(year, month, 1));
      store<i32>(at, monthLength(year, month), 4);
    }
  }
  payoutComponent = payout;
  width = fieldCount;
  delimiter = delimiterCode;
  rowLengthMax = rowMax;
  yearMin = minYear;
  yearMax = maxYear;
  disbursedAction = disbursed;
  currencyCount = 0;
  lastAgreementLength = -1;
  lastPayoutLength = -1;
  for (let slot = 0; slot < STAMP_SLOTS; slot++) store<i32>(STAMPS + <usize>slot * STAMP_SLOT_BYTES, -1);
  return true;
}

export function configureColumns(
  id: i32,
  action: i32,
  type: i32,
  parent: i32,
  payout: i32,
  amount: i32,
  currency: i32,
  balance: i32,
  invoiceDate: i32,
  dueDate: i32,
  usageStart: i32,
  usageEnd: i32,
  invoiceId: i32,
  reference: i32,
  bankTrace: i32,
  agreement: i32,
  update: i32,
  payoutAmount: i32,
  payoutCurrency: i32,
): void {
  cId = id;
  cAction = action;
  cType = type;
  cParent = parent;
  cPayout = payout;
  cAmount = amount;
  cCurrency = currency;
  cBalance = balance;
  cInvoiceDate = invoiceDate;
  cDueDate = dueDate;
  cUsageStart = usageStart;
  cUsageEnd = usageEnd;
  cInvoiceId = invoiceId;
  cReference = reference;
  cBankTrace = bankTrace;
  cAgreement = agreement;
  cUpdate = update;
  cPayoutAmount = payoutAmount;
  cPayoutCurrency = payoutCurrency;
}

/** Adds a currency of three ASCII letters (as a little-endian word) with its decimals and index. */
export function addCurrency(code: i32, exponent: i32, index: i32): bool {
  if (currencyCount >= CURRENCIES_MAX) return false;
  const at = CURRENCIES + <usize>currencyCount * 8;
  store<i32>(at, code);
  store<i32>(at + 4, (exponent & 0xff) | ((index & 0xff) << 8));
  currencyCount += 1;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

@inline function fieldStart(column: i32): i32 {
  return load<i32>(BOUNDS + (<usize>column << 2)) + 1;
}
@inline function fieldEnd(column: i32): i32 {
  return load<i32>(BOUNDS + (<usize>column << 2), 4);
}
@inline function span(column: i32): i32 {
  return column < 0 ? 0 : fieldEnd(column) - fieldStart(column);
}
@inline function byteAt(at: i32): i32 {
  return <i32>load<u8>(INPUT + <usize>at);
}

/** The code of `input[start…end)` in dictionary table `table`, or -1. */
function lookup(table: i32, start: i32, end: i32): i32 {
  const length = end - start;
  let at = DICTIONARY;
  const limit = DICTIONARY + <usize>DICTIONARY_BYTES;
  while (at + 3 <= limit) {
    const entryTable = <i32>load<u8>(at);
    const entryLength = <i32>load<u8>(at + 1);
    if (entryLength === 0) return -1;
    if (entryTable === table && entryLength === length) {
      // Eight bytes a step, then the rest.
      const from = INPUT + <usize>start;
      const known = at + 3;
      let i = 0;
      while (i + 8 <= length && load<i64>(known + <usize>i) === load<i64>(from + <usize>i)) i += 8;
      if (i + 8 > length) {
        while (i < length && load<u8>(known + <usize>i) === load<u8>(from + <usize>i)) i++;
        if (i === length) return <i32>load<u8>(at + 2);
      }
    }
    at += 3 + <usize>entryLength;
  }
  return -1;
}

/** Whether `input[start…end)` equals the bytes kept at `kept` (length `keptLength`); then keeps these. */
function sameAsLast(start: i32, end: i32, kept: usize, keptLength: i32): bool {
  const length = end - start;
  if (length === keptLength) {
    let i = 0;
    for (; i + 4 <= length; i += 4) {
      if (load<i32>(kept + <usize>i) !== load<i32>(INPUT + <usize>(start + i))) break;
    }
    if (i + 4 > length) {
      for (; i < length; i++) if (load<u8>(kept + <usize>i) !== load<u8>(INPUT + <usize>(start + i))) break;
      if (i === length) return true;
    }
  }
  return false;
}

function keep(start: i32, end: i32, kept: usize): i32 {
  const length = end - start;
  if (length > LAST_BYTES) return -1;
  memory.copy(kept, INPUT + <usize>start, <usize>length);
  return length;
}

// ---------------------------------------------------------------------------------------------
// Fingerprints (fingerprint.ts `fingerprintInto` of the same Latin-1 text, four bytes a step)
// ---------------------------------------------------------------------------------------------

const SEED_A: i32 = 0x9747b28c;
const SEED_B: i32 = 0x5bd1e995;
const LANE_B: i32 = 0x2545f491;
let fpHi: i32 = 0;
let fpLo: i32 = 0;

@inline function mix(h: i32, k: i32): i32 {
  let x = k * 0xcc9e2d51;
  x = rotl<i32>(x, 15);
  x = x * 0x1b873593;
  let y = h ^ x;
  y = rotl<i32>(y, 13);
  return y * 5 + 0xe6546b64;
}

@inline function finish(h: i32, length: i32): i32 {
  let x = h ^ length;
  x ^= x >>> 16;
  x = x * 0x85ebca6b;
  x ^= x >>> 13;
  x = x * 0xc2b2ae35;
  x ^= x >>> 16;
  return x;
}

function fingerprint(start: i32, end: i32): void {
  let a = SEED_A;
  let b = SEED_B;
  let i = start;
  for (; i + 3 < end; i += 4) {
    const w = load<i32>(INPUT + <usize>i);
    a = mix(a, w);
    b = mix(b, w ^ LANE_B);
  }
  if (i < end) {
    let w = 0;
    for (let shift = 0; i < end; i++, shift += 8) w |= byteAt(i) << shift;
    a = mix(a, w);
    b = mix(b, w ^ LANE_B);
  }
  fpHi = finish(a, end - start);
  fpLo = finish(b ^ 0x68e31da4, end - start);
}

// ---------------------------------------------------------------------------------------------
// Dates (parse.ts `dayFromBytes` / `millisFromBytes`, the same answers or "not here")
// ---------------------------------------------------------------------------------------------

@inline function digit(at: i32): i32 {
  const c = byteAt(at) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

@inline function twoDigits(at: i32): i32 {
  const a = digit(at);
  const b = digit(at + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function isLeap(year: i32): bool {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function monthLength(year: i32, month: i32): i32 {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** days_from_civil (years here are positive: plain integer division is floor). */
function civilDay(year: i32, month: i32, day: i32): i32 {
  const y = month <= 2 ? year - 1 : year;
  const era = y / 400;
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = (153 * mp + 2) / 5 + day - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

function leadingDay(start: i32, end: i32): i32 {
  if (end - start < 10 || byteAt(start + 4) !== 45 || byteAt(start + 7) !== 45) return -1;
  const hi = twoDigits(start);
  const lo = twoDigits(start + 2);
  const month = twoDigits(start + 5);
  const day = twoDigits(start + 8);
  if (hi < 0 || lo < 0 || month < 0 || day < 0) return -1;
  const year = hi * 100 + lo;
  if (year < yearMin || year > yearMax || month < 1 || month > 12 || day < 1) return -1;
  // The month's first day and length from the table (the same numbers civilDay gives).
  const at = MONTHS + ((<usize>(year - yearMin) * 12 + <usize>(month - 1)) << 3);
  return day > load<i32>(at, 4) ? -1 : load<i32>(at) + day - 1;
}

/** Milliseconds of "HH:MM:SS[.f…][Z|+00:00|+0000]" from `from` to `end`, or -1. */
function utcTimeOfDay(from: i32, end: i32): i32 {
  if (end - from < 8 || byteAt(from + 2) !== 58 || byteAt(from + 5) !== 58) return -1;
  const hours = twoDigits(from);
  const minutes = twoDigits(from + 3);
  const seconds = twoDigits(from + 6);
  if (hours < 0 || minutes < 0 || seconds < 0 || hours > 23 || minutes > 59 || seconds > 59) {
    return -1;
  }
  let i = from + 8;
  let millis = 0;
  if (i < end && byteAt(i) === 46) {
    i += 1;
    const first = i;
    // Up to nine digits; the first three are the milliseconds (the rest is floored away).
    while (i < end && i - first < 9 && digit(i) >= 0) {
      const n = i - first;
      if (n === 0) millis += digit(i) * 100;
      else if (n === 1) millis += digit(i) * 10;
      else if (n === 2) millis += digit(i);
      i += 1;
    }
    if (i === first) return -1;
  }
  const rest = end - i;
  const zone =
    rest === 0 ||
    (rest === 1 && byteAt(i) === 90) ||
    (rest === 6 &&
      byteAt(i) === 43 &&
      byteAt(i + 1) === 48 &&
      byteAt(i + 2) === 48 &&
      byteAt(i + 3) === 58 &&
      byteAt(i + 4) === 48 &&
      byteAt(i + 5) === 48) ||
    (rest === 5 &&
      byteAt(i) === 43 &&
      byteAt(i + 1) === 48 &&
      byteAt(i + 2) === 48 &&
      byteAt(i + 3) === 48 &&
      byteAt(i + 4) === 48);
  return zone ? ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis : -1;
}

let stampTime: i32 = 0;

/**
 * "YYYY-MM-DD", or that, 'T' or a space, and a UTC time of day: its day (and `stampTime`, its
 * milliseconds), else -2 (only the regular parser can say).
 */
function stamp(start: i32, end: i32): i32 {
  stampTime = 0;
  const day = leadingDay(start, end);
  if (day === -1) return -2;
  if (end - start === 10) return day;
  const separator = byteAt(start + 10);
  if (separator !== 84 && separator !== 32) return -2;
  const time = utcTimeOfDay(start + 11, end);
  if (time < 0) return -2;
  stampTime = time;
  return day;
}

/**
 * The last stamp each date column had (rows of one invoice repeat them): [length, day, time,
 * unused, 32 bytes]. A column whose bytes repeat costs a comparison instead of a parse.
 */
const STAMP_BYTES_MAX: i32 = 32;

/** A date column (`slot`: its cache): its day, -1 when empty, -2 when only the parser can say. */
function dayOf(column: i32, slot: i32): i32 {
  const start = fieldStart(column);
  const end = fieldEnd(column);
  const length = end - start;
  if (length === 0) {
    stampTime = 0;
    return -1;
  }
  const kept = STAMPS + <usize>slot * STAMP_SLOT_BYTES;
  const bytes = kept + 16;
  if (length === load<i32>(kept)) {
    const from = INPUT + <usize>start;
    let i = 0;
    for (; i + 8 <= length; i += 8) {
      if (load<i64>(bytes + <usize>i) !== load<i64>(from + <usize>i)) break;
    }
    if (i + 8 > length) {
      for (; i < length; i++) if (load<u8>(bytes + <usize>i) !== load<u8>(from + <usize>i)) break;
      if (i === length) {
        stampTime = load<i32>(kept + 8);
        return load<i32>(kept + 4);
      }
    }
  }
  const day = stamp(start, end);
  if (length <= STAMP_BYTES_MAX) {
    store<i32>(kept, length);
    store<i32>(kept + 4, day);
    store<i32>(kept + 8, stampTime);
    memory.copy(bytes, INPUT + <usize>start, <usize>length);
  }
  return day;
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

const POWERS: StaticArray<i64> = [
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000,
  100000000000, 1000000000000, 10000000000000, 100000000000000, 1000000000000000,
];

let stopCurrencyStart: i32 = 0;
let stopCurrencyEnd: i32 = 0;
export function currencyStart(): i32 {
  return stopCurrencyStart;
}
export function currencyEnd(): i32 {
  return stopCurrencyEnd;
}

/** Writes row `row` of the output: 0, else 1 (for the regular parser) or 2 (an unknown currency). */
function convert(row: i32): i32 {
  if (span(cId) === 0) return 1;
  if (span(cPayoutAmount) > 0 || span(cPayoutCurrency) > 0) return 1;
  const action = lookup(0, fieldStart(cAction), fieldEnd(cAction));
  if (action < 0) return 1;
  const component = lookup(1, fieldStart(cType), fieldEnd(cType));
  if (component < 0) return 1;
  // Currency: three letters of the table.
  const cs = fieldStart(cCurrency);
  const ce = fieldEnd(cCurrency);
  let currency = -1;
  let exponent = 0;
  if (ce - cs === 3) {
    const code = byteAt(cs) | (byteAt(cs + 1) << 8) | (byteAt(cs + 2) << 16);
    for (let i = 0; i < currencyCount; i++) {
      const at = CURRENCIES + <usize>i * 8;
      if (load<i32>(at) === code) {
        const info = load<i32>(at + 4);
        exponent = info & 0xff;
        currency = (info >> 8) & 0xff;
        break;
      }
    }
  }
  if (currency < 0) {
    stopCurrencyStart = cs;
    stopCurrencyEnd = ce;
    return 2;
  }
  if (span(cBalance) !== 1) return 1;
  const flag = byteAt(fieldStart(cBalance));
  if (flag !== 48 && flag !== 49) return 1;
  // The amount: [-]digits[.digits], at most the currency's decimals, at most 15 digits.
  let value: i64 = 0;
  let digits = 0;
  let fraction = -1;
  let negative = false;
  const as = fieldStart(cAmount);
  const ae = fieldEnd(cAmount);
  for (let i = as; i < ae; i++) {
    const c = byteAt(i);
    if (c >= 48 && c <= 57) {
      value = value * 10 + <i64>(c - 48);
      digits += 1;
      if (fraction >= 0) fraction += 1;
    } else if (c === 46 && fraction < 0 && digits > 0) {
      fraction = 0;
    } else if (c === 45 && i === as) {
      negative = true;
    } else {
      return 1;
    }
  }
  const decimals = fraction < 0 ? 0 : fraction;
  if (digits === 0 || fraction === 0 || decimals > exponent || digits + exponent - decimals > 15) {
    return 1;
  }
  const scaled = value * unchecked(POWERS[exponent - decimals]);
  const invoiceDay = dayOf(cInvoiceDate, 0);
  const dueDay = dayOf(cDueDate, 1);
  const usageStartDay = dayOf(cUsageStart, 2);
  const usageEndDay = dayOf(cUsageEnd, 3);
  if (invoiceDay === -2 || dueDay === -2 || usageStartDay === -2 || usageEndDay === -2) return 1;
  const updateDay = cUpdate < 0 ? -1 : dayOf(cUpdate, 4);
  if (updateDay === -2) return 1;
  const updateTimeMillis = stampTime;

  let kind = action | (component << 4) | (currency << 8) | (flag === 49 ? K_BALANCE : 0);
  let flags = 0;
  fingerprint(fieldStart(cId), fieldEnd(cId));
  put(C_ID_HI, row, fpHi);
  put(C_ID_LO, row, fpLo);
  const hasParent = span(cParent) > 0;
  if (hasParent) {
    kind |= K_PARENT;
    flags |= FLAG_PARENT;
    fingerprint(fieldStart(cParent), fieldEnd(cParent));
    put(C_PARENT_HI, row, fpHi);
    put(C_PARENT_LO, row, fpLo);
  } else {
    put(C_PARENT_HI, row, 0);
    put(C_PARENT_LO, row, 0);
  }
  // A disbursed record's line is its parent's; its group is only the fallback without one.
  const group =
    hasParent && action === disbursedAction
      ? -1
      : span(cReference) > 0
        ? cReference
        : span(cInvoiceId) > 0
          ? cInvoiceId
          : -1;
  if (group >= 0) {
    kind |= K_GROUP;
    flags |= FLAG_GROUP;
    fingerprint(fieldStart(group), fieldEnd(group));
    put(C_GROUP_HI, row, fpHi);
    put(C_GROUP_LO, row, fpLo);
  } else {
    put(C_GROUP_HI, row, 0);
    put(C_GROUP_LO, row, 0);
  }
  // Repeated agreement and payout ids: said, so the caller reuses its string.
  if (cAgreement >= 0 && span(cAgreement) > 0) {
    const s = fieldStart(cAgreement);
    const e = fieldEnd(cAgreement);
    if (sameAsLast(s, e, LAST_AGREEMENT, lastAgreementLength)) kind |= K_SAME_AGREEMENT;
    else {
      lastAgreementLength = keep(s, e, LAST_AGREEMENT);
      // Its fingerprint: the store finds a key it has seen without making its string.
      fingerprint(s, e);
      put(C_AGREEMENT_HI, row, fpHi);
      put(C_AGREEMENT_LO, row, fpLo);
    }
    put(C_AGREEMENT_START, row, s);
    put(C_AGREEMENT_END, row, e);
  } else {
    put(C_AGREEMENT_START, row, 0);
    put(C_AGREEMENT_END, row, 0);
  }
  if (span(cPayout) > 0) {
    const s = fieldStart(cPayout);
    const e = fieldEnd(cPayout);
    if (sameAsLast(s, e, LAST_PAYOUT, lastPayoutLength)) kind |= K_SAME_PAYOUT;
    else lastPayoutLength = keep(s, e, LAST_PAYOUT);
    put(C_PAYOUT_START, row, s);
    put(C_PAYOUT_END, row, e);
  } else {
    put(C_PAYOUT_START, row, 0);
    put(C_PAYOUT_END, row, 0);
  }
  put(C_KIND, row, kind);
  putByte(C_RECORD_KIND, row, component | (action << 4) | (flag === 49 ? RECORD_BALANCE : 0));
  putByte(C_RECORD_FLAGS, row, flags);
  put(C_INVOICE_DAY, row, invoiceDay);
  put(C_DUE_DAY, row, dueDay);
  put(C_USAGE_START, row, usageStartDay);
  put(C_USAGE_END, row, usageEndDay);
  // The event's day: its update time's, else a payout's invoice date (only the payout row's).
  put(
    C_EVENT_DAY,
    row,
    updateDay >= 0 ? updateDay : component === payoutComponent ? invoiceDay : -1,
  );
  put(C_ID_START, row, fieldStart(cId));
  put(C_ID_END, row, fieldEnd(cId));
  put(C_INVOICE_ID_START, row, fieldStart(cInvoiceId));
  put(C_INVOICE_ID_END, row, fieldEnd(cInvoiceId));
  put(C_BANK_START, row, cBankTrace < 0 ? 0 : fieldStart(cBankTrace));
  put(C_BANK_END, row, cBankTrace < 0 ? 0 : fieldEnd(cBankTrace));
  store<f64>(
    OUTPUT + <usize>F64_AT + (<usize>row << 3),
    updateDay < 0 ? 0.0 : <f64>updateDay * 86400000.0 + <f64>updateTimeMillis,
  );
  store<i64>(OUTPUT + <usize>I64_AT + (<usize>row << 3), negative ? -scaled : scaled);
  return 0;
}

/** The bit mask of a vector's separators, line breaks, quotes and bytes above 0x7f. */
@inline function hits(v: v128, separator: v128, lineFeed: v128, quote: v128): i32 {
  const marks = v128.or(
    v128.or(i8x16.eq(v, separator), i8x16.eq(v, lineFeed)),
    i8x16.eq(v, quote),
  );
  // The high bit of each byte is bitmask's own: high bytes mark themselves.
  return i8x16.bitmask(v128.or(marks, v));
}

/**
 * Converts the complete rows of `input[start…length)` into output rows; a row holding a quote
 * or a byte above 0x7f is declined (the caller's CSV parser reads it).
 * Returns how many; `lastStopReason()` says why it stopped and `lastStopAt()` where (a row's
 * start, from the input's start).
 */
export function scan(start: i32, length: i32): i32 {
  let rows = 0;
  let fields = 0;
  let rowStart = start;
  store<i32>(BOUNDS, start - 1);
  const separator = i8x16.splat(<i8>delimiter);
  const lineFeed = i8x16.splat(10);
  const quote = i8x16.splat(34);
  // A quote or a byte above 0x7f in the row: it is declined.
  let odd = false;
  // Sixty-four bytes a step: four vector compares make one 64-bit mask of the separators, line
  // breaks, quotes and high bytes (one loop exit a step, not one per sixteen bytes).
  for (let i = start; i < length; i += 64) {
    const p = INPUT + <usize>i;
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    const m0 = <u64>hits(v0, separator, lineFeed, quote);
    const m1 = <u64>hits(v1, separator, lineFeed, quote);
    const m2 = <u64>hits(v2, separator, lineFeed, quote);
    const m3 = <u64>hits(v3, separator, lineFeed, quote);
    let mask: u64 = m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
    if (length - i < 64) mask &= (<u64>1 << <u64>(length - i)) - 1;
    while (mask !== 0) {
      const at = i + <i32>ctz<u64>(mask);
      mask &= mask - 1;
      const c = byteAt(at);
      if (c === delimiter) {
        if (fields < FIELDS_MAX) store<i32>(BOUNDS + (<usize>fields << 2), at, 4);
        fields += 1;
        continue;
      }
      if (c !== 10) {
        odd = true;
        continue;
      }
      let end = at;
      if (end > rowStart && byteAt(end - 1) === 13) end -= 1;
      if (odd || fields + 1 !== width || end <= rowStart || end - rowStart > rowLengthMax) {
        stopReason = odd ? STOP_ODD : STOP_ROW;
        stopAt = rowStart;
        return rows;
      }
      store<i32>(BOUNDS + (<usize>fields << 2), end, 4);
      const outcome = convert(rows);
      if (outcome !== 0) {
        stopReason = outcome === 1 ? STOP_ROW : STOP_CURRENCY;
        stopAt = rowStart;
        return rows;
      }
      rows += 1;
      rowStart = at + 1;
      fields = 0;
      odd = false;
      store<i32>(BOUNDS, rowStart - 1);
      if (rows === ROWS_MAX) {
        stopReason = STOP_FULL;
        stopAt = rowStart;
        return rows;
      }
    }
  }
  stopReason = STOP_END;
  stopAt = rowStart;
  return rows;
}
