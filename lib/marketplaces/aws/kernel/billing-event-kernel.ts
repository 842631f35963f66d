/**
 * The billing event feed's WebAssembly kernel (billing-event-kernel.as.ts), loaded: one instance
 * per feed (its configuration and the last ids it saw are state of that feed), its memory seen
 * through typed arrays. `scan` converts the plain rows of a block of bytes into packed records
 * (store.ts PACKED), which billing-event-feed.ts hands to the statement as they are.
 */
import {
  PACKED,
  PACKED_FLOAT,
  PACKED_KIND,
  PACKED_ROW_WORDS,
} from '../../../domain/reconciliation/store';
import { BILLING_EVENT_KERNEL_WASM_BASE64 } from './billing-event-kernel.wasm';

/** The kernel's layout and codes (billing-event-kernel.as.ts); checked against it at load. */
export const KERNEL_ROWS_MAX = 4096;
export const KERNEL_INPUT_CAPACITY = 2 << 20;
export const KERNEL_STOP_END = 0;
export const KERNEL_STOP_FULL = 1;
export const KERNEL_STOP_ROW = 2;
export const KERNEL_STOP_CURRENCY = 3;
/** Currencies one feed's kernel tells apart (more: the rest go through the regular parser). */
export const KERNEL_CURRENCIES_MAX = 64;

/**
 * The kernel's exported layout constants and what they must equal: its output rows are read as
 * store.ts PACKED rows.
 */
const LAYOUT: readonly (readonly [string, number])[] = [
  ['ROWS_MAX', KERNEL_ROWS_MAX],
  ['ROW_WORDS', PACKED_ROW_WORDS],
  ['INPUT_CAPACITY', KERNEL_INPUT_CAPACITY],
  ['STOP_END', KERNEL_STOP_END],
  ['STOP_FULL', KERNEL_STOP_FULL],
  ['STOP_ROW', KERNEL_STOP_ROW],
  ['STOP_CURRENCY', KERNEL_STOP_CURRENCY],
  ['W_KIND', PACKED.kind],
  ['W_ID_HI', PACKED.idHi],
  ['W_ID_LO', PACKED.idLo],
  ['W_PARENT_HI', PACKED.parentHi],
  ['W_PARENT_LO', PACKED.parentLo],
  ['W_GROUP_HI', PACKED.groupHi],
  ['W_GROUP_LO', PACKED.groupLo],
  ['W_INVOICE_DAY', PACKED.invoiceDay],
  ['W_DUE_DAY', PACKED.dueDay],
  ['W_USAGE_START', PACKED.usageStartDay],
  ['W_USAGE_END', PACKED.usageEndDay],
  ['W_UPDATE_DAY', PACKED.updateDay],
  ['W_ID_START', PACKED.idStart],
  ['W_ID_END', PACKED.idEnd],
  ['W_INVOICE_ID_START', PACKED.invoiceIdStart],
  ['W_INVOICE_ID_END', PACKED.invoiceIdEnd],
  ['W_AGREEMENT_START', PACKED.contractKeyStart],
  ['W_AGREEMENT_END', PACKED.contractKeyEnd],
  ['W_PAYOUT_START', PACKED.payoutStart],
  ['W_PAYOUT_END', PACKED.payoutEnd],
  ['W_BANK_START', PACKED.bankStart],
  ['W_BANK_END', PACKED.bankEnd],
  ['W_ROW_END', PACKED.rowEnd],
  ['W_AGREEMENT_HI', PACKED.contractKeyHi],
  ['W_AGREEMENT_LO', PACKED.contractKeyLo],
  ['F_AMOUNT', PACKED_FLOAT.amount],
  ['F_VERSION', PACKED_FLOAT.version],
  ['K_BALANCE', PACKED_KIND.balance],
  ['K_PARENT', PACKED_KIND.parent],
  ['K_GROUP', PACKED_KIND.group],
  ['K_SAME_AGREEMENT', PACKED_KIND.sameContractKey],
  ['K_SAME_PAYOUT', PACKED_KIND.samePayout],
];

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
  ): void;
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
  readonly words: Int32Array;
  readonly floats: Float64Array;
  readonly input: number;
  /** Output row r: words[outputWord + r × PACKED_ROW_WORDS …] (store.ts PACKED). */
  readonly outputWord: number;
  private currencies = 0;

  constructor(setup: KernelSetup) {
    const instance = new wasm.Instance(kernelModule(), { env: { abort: kernelAbort } });
    const x = instance.exports as unknown as KernelExports;
    const globals = instance.exports as Record<string, { readonly value?: unknown } | undefined>;
    for (const [name, value] of LAYOUT) {
      if (globals[name]?.value !== value) {
        throw new Error(
          `The billing event kernel's ${name} is not ${value}: run \`npm run kernel\``,
        );
      }
    }
    if (x.prepare() === 0) throw new RangeError('No memory for the billing event kernel');
    this.exports = x;
    const buffer = x.memory.buffer;
    this.bytes = Buffer.from(buffer);
    this.words = new Int32Array(buffer);
    this.floats = new Float64Array(buffer);
    this.input = x.inputOffset();
    this.outputWord = x.outputOffset() >> 2;
    x.configure(
      setup.width,
      setup.delimiterCode,
      setup.rowLengthMax,
      setup.yearMin,
      setup.yearMax,
      setup.disbursedAction,
    );
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
