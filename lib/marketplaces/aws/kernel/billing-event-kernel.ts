/**
 * The billing event feed's WebAssembly kernel (billing-event-kernel.as.ts), loaded: one instance
 * per feed (its configuration and the last ids it saw are state of that feed), its memory seen
 * through typed arrays. `scan` converts the plain rows of a block of bytes into fixed-size output
 * rows; billing-event-feed.ts turns those into statement records.
 */
import { BILLING_EVENT_KERNEL_WASM_BASE64 } from './billing-event-kernel.wasm';

/** The kernel's layout and codes (billing-event-kernel.as.ts); checked against it at load. */
export const KERNEL_ROWS_MAX = 4096;
export const KERNEL_ROW_WORDS = 28;
export const KERNEL_INPUT_CAPACITY = 2 << 20;
export const KERNEL_STOP_END = 0;
export const KERNEL_STOP_FULL = 1;
export const KERNEL_STOP_ROW = 2;
export const KERNEL_STOP_CURRENCY = 3;
/** Currencies one feed's kernel tells apart (more: the rest go through the regular parser). */
export const KERNEL_CURRENCIES_MAX = 64;

export const W = {
  kind: 0,
  idHi: 1,
  idLo: 2,
  parentHi: 3,
  parentLo: 4,
  groupHi: 5,
  groupLo: 6,
  invoiceDay: 7,
  dueDay: 8,
  usageStart: 9,
  usageEnd: 10,
  updateDay: 11,
  idStart: 12,
  idEnd: 13,
  invoiceIdStart: 14,
  invoiceIdEnd: 15,
  agreementStart: 16,
  agreementEnd: 17,
  payoutStart: 18,
  payoutEnd: 19,
  bankStart: 20,
  bankEnd: 21,
  rowEnd: 22,
} as const;
export const F = { amount: 12, version: 13 } as const;
export const K = {
  balance: 1 << 16,
  parent: 1 << 17,
  group: 1 << 18,
  sameAgreement: 1 << 19,
  samePayout: 1 << 20,
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
  readonly ROWS_MAX: { readonly value: number };
  readonly ROW_WORDS: { readonly value: number };
  readonly INPUT_CAPACITY: { readonly value: number };
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
  scan(length: number): number;
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
  /** Output row r: words[outputWord + r × KERNEL_ROW_WORDS …], floats[outputFloat + r × 14 …]. */
  readonly outputWord: number;
  readonly outputFloat: number;
  private currencies = 0;

  constructor(setup: KernelSetup) {
    const instance = new wasm.Instance(kernelModule(), { env: { abort: kernelAbort } });
    const x = instance.exports as unknown as KernelExports;
    if (
      x.ROWS_MAX.value !== KERNEL_ROWS_MAX ||
      x.ROW_WORDS.value !== KERNEL_ROW_WORDS ||
      x.INPUT_CAPACITY.value !== KERNEL_INPUT_CAPACITY
    ) {
      throw new Error('The billing event kernel does not match its loader: run `npm run kernel`');
    }
    if (x.prepare() === 0) throw new RangeError('No memory for the billing event kernel');
    this.exports = x;
    const buffer = x.memory.buffer;
    this.bytes = Buffer.from(buffer);
    this.words = new Int32Array(buffer);
    this.floats = new Float64Array(buffer);
    this.input = x.inputOffset();
    this.outputWord = x.outputOffset() >> 2;
    this.outputFloat = x.outputOffset() >> 3;
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

  /** Copies `source[start…end)` (at most KERNEL_INPUT_CAPACITY bytes) in and converts it. */
  scan(source: Uint8Array, start: number, end: number): number {
    this.bytes.set(source.subarray(start, end), this.input);
    return this.exports.scan(end - start);
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
