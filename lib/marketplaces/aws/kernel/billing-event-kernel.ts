/**
 * The billing event feed's WebAssembly kernel (billing-event-kernel.as.ts), loaded: one instance
 * per feed (its configuration and the last ids it saw are state of that feed), its memory seen
 * through typed arrays. `scan` converts the plain rows of a block of bytes into packed records
 * (store.ts PackedColumns), which billing-event-feed.ts hands to the statement as they are.
 */
import {
  PACKED_FLAG_GROUP,
  PACKED_FLAG_PARENT,
  PACKED_KIND,
  PACKED_RECORD_BALANCE,
  type PackedColumns,
} from '../../../domain/reconciliation/store';
import { BILLING_EVENT_KERNEL_WASM_BASE64 } from './billing-event-kernel.wasm';

/** The kernel's layout and codes (billing-event-kernel.as.ts); checked against it at load. */
export const KERNEL_ROWS_MAX = 4096;
export const KERNEL_INPUT_CAPACITY = 2 << 20;
export const KERNEL_STOP_END = 0;
export const KERNEL_STOP_FULL = 1;
export const KERNEL_STOP_ROW = 2;
export const KERNEL_STOP_CURRENCY = 3;
export const KERNEL_STOP_ODD = 4;
/** Currencies one feed's kernel tells apart (more: the rest go through the regular parser). */
export const KERNEL_CURRENCIES_MAX = 64;

/**
 * The kernel's exported constants that must equal the loader's and the store's (its output is
 * read as store.ts PackedColumns).
 */
const LAYOUT: readonly (readonly [string, number])[] = [
  ['ROWS_MAX', KERNEL_ROWS_MAX],
  ['INPUT_CAPACITY', KERNEL_INPUT_CAPACITY],
  ['STOP_END', KERNEL_STOP_END],
  ['STOP_FULL', KERNEL_STOP_FULL],
  ['STOP_ROW', KERNEL_STOP_ROW],
  ['STOP_CURRENCY', KERNEL_STOP_CURRENCY],
  ['STOP_ODD', KERNEL_STOP_ODD],
  ['RECORD_BALANCE', PACKED_RECORD_BALANCE],
  ['FLAG_GROUP', PACKED_FLAG_GROUP],
  ['FLAG_PARENT', PACKED_FLAG_PARENT],
  ['K_BALANCE', PACKED_KIND.balance],
  ['K_PARENT', PACKED_KIND.parent],
  ['K_GROUP', PACKED_KIND.group],
  ['K_SAME_AGREEMENT', PACKED_KIND.sameContractKey],
  ['K_SAME_PAYOUT', PACKED_KIND.samePayout],
];

/** Each i32 output column: the kernel's export naming its index. */
const I32_COLUMNS = {
  idHi: 'C_ID_HI',
  idLo: 'C_ID_LO',
  groupHi: 'C_GROUP_HI',
  groupLo: 'C_GROUP_LO',
  parentHi: 'C_PARENT_HI',
  parentLo: 'C_PARENT_LO',
  invoiceDay: 'C_INVOICE_DAY',
  dueDay: 'C_DUE_DAY',
  usageStartDay: 'C_USAGE_START',
  usageEndDay: 'C_USAGE_END',
  eventDay: 'C_EVENT_DAY',
  kind: 'C_KIND',
  idStart: 'C_ID_START',
  idEnd: 'C_ID_END',
  invoiceIdStart: 'C_INVOICE_ID_START',
  invoiceIdEnd: 'C_INVOICE_ID_END',
  contractKeyStart: 'C_AGREEMENT_START',
  contractKeyEnd: 'C_AGREEMENT_END',
  contractKeyHi: 'C_AGREEMENT_HI',
  contractKeyLo: 'C_AGREEMENT_LO',
  payoutStart: 'C_PAYOUT_START',
  payoutEnd: 'C_PAYOUT_END',
  bankStart: 'C_BANK_START',
  bankEnd: 'C_BANK_END',
} as const;

/** The columns the kernel reads (-1: absent). */
export interface KernelColumns {
  readonly id: number;
  readonly action: number;
  readonly type: number;
  readonly parent: number;
  readonly payout: number;
  readonly amount: number;
  readonly currency: number;
  readonly balance: number;
  readonly invoiceDate: number;
  readonly dueDate: number;
  readonly usageStart: number;
  readonly usageEnd: number;
  readonly invoiceId: number;
  readonly reference: number;
  readonly bankTrace: number;
  readonly agreement: number;
  readonly update: number;
  readonly payoutAmount: number;
  readonly payoutCurrency: number;
}

export interface KernelSetup {
  readonly width: number;
  readonly delimiterCode: number;
  readonly rowLengthMax: number;
  readonly yearMin: number;
  readonly yearMax: number;
  /** Action code of a disbursed record (its group is only a fallback). */
  readonly disbursedAction: number;
  /** Component code of a payout (its event day falls back to its invoice date). */
  readonly payoutComponent: number;
  /** Table 0: actions, table 1: transaction types: the exact spellings and their codes (< 16). */
  readonly actions: readonly (readonly [string, number])[];
  readonly types: readonly (readonly [string, number])[];
  readonly columns: KernelColumns;
}

/** The WebAssembly API as far as used here (the Node types declare little of it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasm = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  prepare(): number;
  configure(
    width: number,
    delimiter: number,
    rowMax: number,
    yearMin: number,
    yearMax: number,
    disbursed: number,
    payout: number,
  ): number;
  configureColumns(...columns: number[]): void;
  addCurrency(code: number, exponent: number, index: number): number;
  inputOffset(): number;
  outputOffset(): number;
  dictionaryOffset(): number;
  dictionaryBytes(): number;
  lastStopReason(): number;
  lastStopAt(): number;
  currencyStart(): number;
  currencyEnd(): number;
  scan(start: number, length: number): number;
}

let compiled: object | null = null;

function kernelModule(): object {
  compiled ??= new wasm.Module(Buffer.from(BILLING_EVENT_KERNEL_WASM_BASE64, 'base64'));
  return compiled;
}

/** Whether a delimiter can be the kernel's: one ASCII byte that is no quote or line break. */
export function kernelTakesDelimiter(code: number): boolean {
  return code > 0 && code < 0x80 && code !== 10 && code !== 13 && code !== 34;
}

export class BillingEventKernel {
  private readonly exports: KernelExports;
  /** The kernel's memory (it never grows after `prepare`). */
  readonly bytes: Buffer;
  readonly input: number;
  /** The output, as the store reads it (views of the kernel's memory). */
  readonly columns: PackedColumns;
  private currencies = 0;

  constructor(setup: KernelSetup) {
    const instance = new wasm.Instance(kernelModule(), { env: { abort: kernelAbort } });
    const x = instance.exports as unknown as KernelExports;
    const globals = instance.exports as Record<string, { readonly value?: unknown } | undefined>;
    const constant = (name: string) => {
      const value = globals[name]?.value;
      if (typeof value !== 'number') {
        throw new Error(`The billing event kernel has no ${name}: run \`npm run kernel\``);
      }
      return value;
    };
    for (const [name, value] of LAYOUT) {
      if (constant(name) !== value) {
        throw new Error(
          `The billing event kernel's ${name} is not ${value}: run \`npm run kernel\``,
        );
      }
    }
    if (x.prepare() === 0) throw new RangeError('No memory for the billing event kernel');
    this.exports = x;
    const buffer = x.memory.buffer;
    this.bytes = Buffer.from(buffer);
    this.input = x.inputOffset();
    const output = x.outputOffset();
    const ints = Object.fromEntries(
      Object.entries(I32_COLUMNS).map(([field, name]) => [
        field,
        new Int32Array(buffer, output + constant(name) * KERNEL_ROWS_MAX * 4, KERNEL_ROWS_MAX),
      ]),
    ) as Record<keyof typeof I32_COLUMNS, Int32Array>;
    const u8 = output + constant('U8_AT');
    this.columns = {
      ...ints,
      recordKind: new Uint8Array(
        buffer,
        u8 + constant('C_RECORD_KIND') * KERNEL_ROWS_MAX,
        KERNEL_ROWS_MAX,
      ),
      recordFlags: new Uint8Array(
        buffer,
        u8 + constant('C_RECORD_FLAGS') * KERNEL_ROWS_MAX,
        KERNEL_ROWS_MAX,
      ),
      version: new Float64Array(buffer, output + constant('F64_AT'), KERNEL_ROWS_MAX),
      amount: new BigInt64Array(buffer, output + constant('I64_AT'), KERNEL_ROWS_MAX),
    };
    const configured = x.configure(
      setup.width,
      setup.delimiterCode,
      setup.rowLengthMax,
      setup.yearMin,
      setup.yearMax,
      setup.disbursedAction,
      setup.payoutComponent,
    );
    if (configured === 0) {
      throw new RangeError(
        `The billing event kernel cannot take years ${setup.yearMin}–${setup.yearMax}`,
      );
    }
    const c = setup.columns;
    x.configureColumns(
      c.id,
      c.action,
      c.type,
      c.parent,
      c.payout,
      c.amount,
      c.currency,
      c.balance,
      c.invoiceDate,
      c.dueDate,
      c.usageStart,
      c.usageEnd,
      c.invoiceId,
      c.reference,
      c.bankTrace,
      c.agreement,
      c.update,
      c.payoutAmount,
      c.payoutCurrency,
    );
    this.writeDictionary(setup);
  }

  /** Entries [table, length, code, bytes…], ended by a zero length. */
  private writeDictionary(setup: KernelSetup): void {
    let at = this.exports.dictionaryOffset();
    const end = at + this.exports.dictionaryBytes() - 1;
    const put = (table: number, entries: readonly (readonly [string, number])[]) => {
      for (const [name, code] of entries) {
        if (at + 3 + name.length > end || code > 15 || name.length > 255) {
          throw new RangeError(`The billing event kernel cannot take "${name}"`);
        }
        this.bytes[at] = table;
        this.bytes[at + 1] = name.length;
        this.bytes[at + 2] = code;
        this.bytes.write(name, at + 3, 'latin1');
        at += 3 + name.length;
      }
    };
    put(0, setup.actions);
    put(1, setup.types);
    this.bytes[at + 1] = 0;
  }

  /**
   * Tells the kernel a currency of three ASCII letters (its decimals, its index in the caller's
   * list); false when it takes no more.
   */
  addCurrency(code: string, exponent: number, index: number): boolean {
    if (code.length !== 3 || this.currencies >= KERNEL_CURRENCIES_MAX || index > 255) return false;
    const word = code.charCodeAt(0) | (code.charCodeAt(1) << 8) | (code.charCodeAt(2) << 16);
    if (this.exports.addCurrency(word, exponent, index) === 0) return false;
    this.currencies += 1;
    return true;
  }

  /**
   * Copies `source[start…end)` in (at most KERNEL_INPUT_CAPACITY bytes); it is then the input,
   * `scan` converting from any of its rows.
   */
  load(source: Uint8Array, start: number, end: number): void {
    this.bytes.set(source.subarray(start, end), this.input);
  }

  /** Converts the input's complete rows from `start` (a row's start) to `length`. */
  scan(start: number, length: number): number {
    return this.exports.scan(start, length);
  }

  get stopReason(): number {
    return this.exports.lastStopReason();
  }

  /** Where the last scan stopped, from the start of the input. */
  get stopAt(): number {
    return this.exports.lastStopAt();
  }

  /** The currency field of the row a KERNEL_STOP_CURRENCY stopped at. */
  stopCurrency(): string {
    return this.text(this.exports.currencyStart(), this.exports.currencyEnd());
  }

  /** Input bytes `[start…end)` as a string of its own (ASCII). */
  text(start: number, end: number): string {
    return this.bytes.toString('latin1', this.input + start, this.input + end);
  }
}

function kernelAbort(): never {
  throw new Error('The billing event kernel aborted');
}
