/**
 * A streaming RFC 4180 CSV reader for large marketplace reports: constant memory (the pending
 * text is at most one record, bounded by CSV_ROW_LENGTH_MAX), quoted fields with doubled quotes
 * and line breaks inside, CRLF or LF, a UTF-8 byte order mark, UTF-8 split across chunks.
 *
 * Every record carries the physical line it starts on (the header is line 1), so a report can
 * name the row a finance user finds in an editor; a record whose quoted field holds a line break
 * spans several lines and the next record's number jumps accordingly. A malformed record (an
 * unterminated quote, text after a closing quote, too many fields, too long) becomes a row error
 * `{ line, reason }` and reading continues with the next record. Blank lines are skipped.
 *
 * Speed: a record without a quote (nearly all of them in marketplace feeds) is cut with the
 * engine's native `indexOf` and `split`; only records with a quote take the character walk. An
 * ASCII chunk is decoded as latin1 (several times faster than UTF-8 decoding, same result). Rows
 * come in batches (one per CSV_PIECE_LENGTH of input), so per-row async overhead is paid once
 * per batch.
 */
import { isAscii } from 'node:buffer';

/** Characters one record may span (quoted line breaks included); a longer one is an error. */
export const CSV_ROW_LENGTH_MAX = 1_048_576;
/** Fields one record may hold. */
export const CSV_FIELD_COUNT_MAX = 1_024;
/** Records one stream may hold: a guard far above any marketplace report. */
export const CSV_RECORDS_MAX = 200_000_000;
/** Bytes (or characters) decoded and parsed at a time: small enough to die young. */
export const CSV_PIECE_LENGTH = 32_768;
/** Bytes a UTF-8 sequence can leave unfinished at the end of a chunk. */
const UTF8_CARRY_MAX = 3;

export interface CsvRow {
  /** Physical line the record starts on; the first line of the file is 1. */
  readonly line: number;
  readonly fields: string[];
}

export interface CsvRowError {
  readonly line: number;
  readonly reason: string;
}

export type CsvItem = CsvRow | CsvRowError;

export function isCsvRowError(item: CsvItem): item is CsvRowError {
  return 'reason' in item;
}

export interface CsvOptions {
  /** One character; default ','. */
  readonly delimiter?: string;
}

export class CsvLimitError extends Error {
  readonly code = 'csv_limit';
}

const LF = 10;
const CR = 13;
const QUOTE = 34;
const BOM = '\uFEFF';
const UNTERMINATED = 'unterminated quoted field';
const UNTERMINATED_LONG = `unterminated quoted field (no closing quote within ${CSV_ROW_LENGTH_MAX} characters)`;
const TOO_LONG = `row longer than ${CSV_ROW_LENGTH_MAX} characters`;
const TOO_MANY_FIELDS = `more than ${CSV_FIELD_COUNT_MAX} fields`;

/** Result of cutting one record out of the pending text. */
type Cut =
  | {
      readonly kind: 'row';
      readonly fields: string[];
      readonly next: number;
      readonly lines: number;
    }
  | {
      readonly kind: 'error';
      readonly reason: string;
      readonly next: number;
      readonly lines: number;
    }
  | { readonly kind: 'more' };

const MORE: Cut = { kind: 'more' };

/**
 * The synchronous core: push decoded text in any pieces, collect items. Holds at most one
 * unfinished record between pushes.
 */
export class CsvParser {
  private pending = '';
  private line = 1;
  private started = false;
  /** A too-long unquoted line is being discarded up to its end. */
  private skipping = false;
  private records = 0;
  private readonly delimiter: string;
  private readonly delimiterCode: number;

  /**
   * `firstLine` and `midStream` let a reader hand over a stream it began itself (the scanner):
   * line numbers go on from there and no byte order mark is looked for.
   */
  constructor(options: CsvOptions & { firstLine?: number; midStream?: boolean } = {}) {
    this.line = options.firstLine ?? 1;
    this.started = options.midStream ?? false;
    const delimiter = options.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new RangeError(`Unusable CSV delimiter: ${JSON.stringify(delimiter)}`);
    }
    this.delimiter = delimiter;
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /** Parses what the text completes; appends rows and row errors to `out`. */
  push(text: string, out: CsvItem[]): void {
    let chunk = text;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.startsWith(BOM)) chunk = chunk.slice(1);
    }
    if (this.skipping) {
      const nl = chunk.indexOf('\n');
      if (nl === -1) return;
      this.skipping = false;
      this.line += 1;
      chunk = chunk.slice(nl + 1);
    }
    this.pending = this.pending.length === 0 ? chunk : this.pending + chunk;
    this.drain(out, false);
  }

  /** The end of the input: the last record needs no line break. */
  end(out: CsvItem[]): void {
    this.drain(out, true);
    this.pending = '';
  }

  private emit(out: CsvItem[], item: CsvItem): void {
    this.records += 1;
    if (this.records > CSV_RECORDS_MAX) {
      throw new CsvLimitError(`A CSV stream holds at most ${CSV_RECORDS_MAX} records`);
    }
    out.push(item);
  }

  private drain(out: CsvItem[], final: boolean): void {
    const text = this.pending;
    const length = text.length;
    let pos = 0;
    // The next quote at or after pos (length when there is none): lines before it are plain.
    let quoteAt = text.indexOf('"');
    if (quoteAt === -1) quoteAt = length;
    // Each pass consumes at least one character or stops, so the text length bounds the loop.
    for (let guard = 0; guard <= length && pos < length && !this.skipping; guard += 1) {
      if (quoteAt < pos) {
        quoteAt = text.indexOf('"', pos);
        if (quoteAt === -1) quoteAt = length;
      }
      let nl = text.indexOf('\n', pos);
      if (nl === -1) {
        if (!final && quoteAt >= length) {
          // Wait for the line break, unless the line is already too long to be a record.
          if (length - pos > CSV_ROW_LENGTH_MAX)
            pos = this.recover(out, text, pos, TOO_LONG, final);
          break;
        }
        nl = length;
      }
      if (quoteAt > nl) {
        // A plain record on one physical line.
        let end = nl;
        if (end > pos && text.charCodeAt(end - 1) === CR) end -= 1;
        if (end > pos) this.emitPlain(out, text, pos, end);
        this.line += 1;
        pos = nl + 1;
        continue;
      }
      const cut = this.cutQuoted(text, pos, final);
      if (cut.kind === 'more') {
        if (length - pos > CSV_ROW_LENGTH_MAX) {
          pos = this.recover(out, text, pos, UNTERMINATED_LONG, final);
          continue;
        }
        break;
      }
      if (cut.kind === 'error' && cut.reason === UNTERMINATED) {
        pos = this.recover(out, text, pos, UNTERMINATED, final);
        continue;
      }
      if (cut.kind === 'error') this.emit(out, { line: this.line, reason: cut.reason });
      else this.emit(out, { line: this.line, fields: cut.fields });
      this.line += cut.lines + 1;
      pos = cut.next;
    }
    this.pending = pos >= length ? '' : text.slice(pos);
  }

  private emitPlain(out: CsvItem[], text: string, from: number, to: number): void {
    if (to - from > CSV_ROW_LENGTH_MAX) {
      this.emit(out, { line: this.line, reason: TOO_LONG });
      return;
    }
    const fields = text.slice(from, to).split(this.delimiter, CSV_FIELD_COUNT_MAX + 1);
    if (fields.length > CSV_FIELD_COUNT_MAX) {
      this.emit(out, { line: this.line, reason: TOO_MANY_FIELDS });
      return;
    }
    this.emit(out, { line: this.line, fields });
  }

  /**
   * A record that cannot be cut (a quote that never closes, a line beyond the limit): report
   * its first line and resume on the physical line after it, so one stray quote costs one row.
   * Without a line break in sight the rest of that line is discarded as it arrives.
   */
  private recover(
    out: CsvItem[],
    text: string,
    pos: number,
    reason: string,
    final: boolean,
  ): number {
    this.emit(out, { line: this.line, reason });
    const nl = text.indexOf('\n', pos);
    if (nl === -1) {
      if (!final) this.skipping = true;
      return text.length;
    }
    this.line += 1;
    return nl + 1;
  }

  /**
   * One record that contains a quote, walked field by field from `start`. `next` is the index
   * after the record's line break; `lines` counts the line breaks inside quoted fields.
   */
  private cutQuoted(text: string, start: number, final: boolean): Cut {
    const length = text.length;
    const delimiter = this.delimiterCode;
    const fields: string[] = [];
    let lines = 0;
    let i = start;
    for (let field = 0; field < CSV_FIELD_COUNT_MAX; field += 1) {
      let value: string;
      if (i < length && text.charCodeAt(i) === QUOTE) {
        let j = i + 1;
        value = '';
        let closed = -1;
        // Each pass moves past one quote: bounded by the text length.
        for (let guard = 0; guard <= length; guard += 1) {
          const q = text.indexOf('"', j);
          if (q === -1) return final ? errorCut(UNTERMINATED, length, lines) : MORE;
          if (q + 1 >= length && !final) return MORE;
          value += text.slice(j, q);
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            j = q + 2;
            continue;
          }
          closed = q;
          break;
        }
        lines += countLineBreaks(text, i, closed);
        i = closed + 1;
        if (i >= length) {
          fields.push(value);
          return { kind: 'row', fields, next: length, lines };
        }
        const c = text.charCodeAt(i);
        if (c === delimiter) {
          fields.push(value);
          i += 1;
          continue;
        }
        if (c === LF || (c === CR && text.charCodeAt(i + 1) === LF)) {
          fields.push(value);
          return { kind: 'row', fields, next: i + (c === CR ? 2 : 1), lines };
        }
        if (c === CR && i + 1 >= length && !final) return MORE;
        return this.badRecord(text, i, final, lines, 'unexpected character after a closing quote');
      }
      // Unquoted field: up to the next delimiter or line break (a quote inside is literal).
      let end = text.indexOf(this.delimiter, i);
      const nl = text.indexOf('\n', i);
      if (nl === -1 && !final) return MORE;
      const lineEnd = nl === -1 ? length : nl;
      if (end === -1 || end > lineEnd) {
        end = lineEnd;
        const valueEnd = end > i && text.charCodeAt(end - 1) === CR ? end - 1 : end;
        fields.push(text.slice(i, valueEnd));
        return { kind: 'row', fields, next: nl === -1 ? length : nl + 1, lines };
      }
      fields.push(text.slice(i, end));
      i = end + 1;
    }
    return this.badRecord(text, i, final, lines, TOO_MANY_FIELDS);
  }

  /** A malformed record: skip to the end of its physical line (quotes no longer count). */
  private badRecord(
    text: string,
    from: number,
    final: boolean,
    lines: number,
    reason: string,
  ): Cut {
    const nl = text.indexOf('\n', from);
    if (nl === -1 && !final) return MORE;
    return errorCut(reason, nl === -1 ? text.length : nl + 1, lines);
  }
}

function errorCut(reason: string, next: number, lines: number): Cut {
  return { kind: 'error', reason, next, lines };
}

function countLineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  let at = text.indexOf('\n', from);
  // Bounded by the span: each pass moves past one line break.
  for (let guard = 0; guard <= to - from && at !== -1 && at < to; guard += 1) {
    count += 1;
    at = text.indexOf('\n', at + 1);
  }
  return count;
}

/**
 * UTF-8 bytes → text across chunk boundaries. An ASCII chunk with nothing carried over is
 * decoded as latin1 (identical for ASCII, and much faster); otherwise the chunk is decoded up to
 * its last complete sequence and the rest carried into the next one.
 */
export class Utf8ChunkDecoder {
  private carry: Buffer = Buffer.alloc(0);

  decode(chunk: Uint8Array): string {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.carry.length === 0 && isAscii(bytes)) return bytes.toString('latin1');
    const all = this.carry.length === 0 ? bytes : Buffer.concat([this.carry, bytes]);
    const complete = completeUtf8Length(all);
    this.carry = Buffer.from(all.subarray(complete));
    return all.toString('utf8', 0, complete);
  }

  /** Whatever is still carried (an incomplete sequence decodes to U+FFFD). */
  end(): string {
    const rest = this.carry.toString('utf8');
    this.carry = Buffer.alloc(0);
    return rest;
  }
}

/** Length of the longest prefix that does not end inside a UTF-8 sequence. */
export function completeUtf8Length(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  let back = 0;
  while (i >= 0 && back < UTF8_CARRY_MAX && ((bytes[i] ?? 0) & 0xc0) === 0x80) {
    i -= 1;
    back += 1;
  }
  if (i < 0) return bytes.length;
  const lead = bytes[i] ?? 0;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return bytes.length - i >= need ? bytes.length : i;
}

/**
 * Reads CSV from bytes or text, one batch of items per input chunk (empty batches are not
 * yielded). Memory stays bounded by the chunk size plus one record.
 */
export async function* readCsvBatches(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvOptions = {},
): AsyncGenerator<CsvItem[], void, undefined> {
  const parser = new CsvParser(options);
  const decoder = new Utf8ChunkDecoder();
  for await (const chunk of source) {
    // Text is decoded and parsed, and rows handed on, in pieces of at most CSV_PIECE_LENGTH:
    // what a batch holds then dies young, instead of being copied by every scavenge or, for
    // strings beyond the young generation's object size, marked with the whole heap.
    for (let at = 0; at < chunk.length; at += CSV_PIECE_LENGTH) {
      const piece =
        typeof chunk === 'string'
          ? chunk.slice(at, at + CSV_PIECE_LENGTH)
          : decoder.decode(chunk.subarray(at, at + CSV_PIECE_LENGTH));
      const out: CsvItem[] = [];
      parser.push(piece, out);
      if (out.length > 0) yield out;
    }
  }
  const out: CsvItem[] = [];
  parser.push(decoder.end(), out);
  parser.end(out);
  if (out.length > 0) yield out;
}

/** A record's fields as offsets: field i is the ASCII bytes `bytes[starts[i]…ends[i])`
 * (`csvViewField` gives it as a string). The object is reused. */
export interface CsvRecordView {
  line: number;
  count: number;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  bytes: Buffer;
}

/** Field `index` of a record view as a string. */
export function csvViewField(view: CsvRecordView, index: number): string {
  return view.bytes.toString('latin1', view.starts[index] ?? 0, view.ends[index] ?? 0);
}

/** Whether an Int32Array reads bytes lowest address first (the word scan needs to know). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** What a block handler took: up to `next` (a record's start), `records` records. */
export interface CsvBlockResult {
  next: number;
  records: number;
  /** Whether the record at `next` is left to the scanner (else: there is no complete one). */
  declined: boolean;
  /**
   * Declined, but seen whole: one line of ASCII without a quote (the scanner need not look
   * for those before cutting it).
   */
  plain: boolean;
}

export interface CsvScanHandlers {
  /**
   * Optional: offered each run of bytes `bytes[start…limit)` before the scanner cuts it. It
   * takes any number of complete records from `start` (the first on physical line `line`), each
   * one line of ASCII without a quote, and says so in `result`; a record it declines the scanner
   * cuts and hands to `record` (or reports), or to the full parser when it holds a quote or a
   * non-ASCII byte, then offers the rest again.
   */
  block?(bytes: Buffer, start: number, limit: number, line: number, result: CsvBlockResult): void;
  /** A plain record (no quote, ASCII): fields as offsets, no strings made. */
  record(view: CsvRecordView): void;
  /** Any other record, as strings (the same as readCsvBatches gives). */
  fields(row: CsvRow): void;
  error(error: CsvRowError): void;
}

const EMPTY_BYTES = Buffer.alloc(0);

/**
 * The same records as `readCsvBatches`, for the hottest readers: plain ASCII records come as
 * offsets into the bytes (a reader can fingerprint ids and parse numbers without making a string
 * per field); from the first quote, non-ASCII byte or overlong line on, the rest of the stream
 * goes through the full parser and comes as strings. Same line numbers, errors and limits.
 */
export async function scanCsv(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  handlers: CsvScanHandlers,
  options: CsvOptions = {},
): Promise<void> {
  const delimiter = options.delimiter ?? ',';
  new CsvParser(options); // refuses an unusable delimiter before anything is read
  let slow: CsvParser | null = null;
  const decoder = new Utf8ChunkDecoder();
  const view: CsvRecordView = {
    line: 1,
    count: 0,
    starts: new Int32Array(CSV_FIELD_COUNT_MAX + 1),
    ends: new Int32Array(CSV_FIELD_COUNT_MAX + 1),
    bytes: EMPTY_BYTES,
  };
  let pending: Buffer = EMPTY_BYTES;
  let line = 1;
  let first = true;
  let records = 0;
  const dispatch = (items: CsvItem[]) => {
    for (const item of items) {
      if ('reason' in item) handlers.error(item);
      else handlers.fields(item);
    }
  };
  const toSlow = (text: string, midStream = true) => {
    slow = new CsvParser({ ...options, firstLine: line, midStream });
    const out: CsvItem[] = [];
    slow.push(text, out);
    dispatch(out);
  };
  const count = (taken = 1) => {
    records += taken;
    if (records > CSV_RECORDS_MAX)
      throw new CsvLimitError(`A CSV stream holds at most ${CSV_RECORDS_MAX} records`);
  };
  const delimiterCode = delimiter.charCodeAt(0);
  const starts = view.starts;
  const ends = view.ends;
  // State of the record being cut: where it starts in the piece and its separators so far.
  let recordStart = 0;
  let separators = 0;
  /** A record's line break at `at`: the record (or its error) goes out. */
  const lineBreak = (bytes: Buffer, at: number) => {
    let end = at;
    if (end > recordStart && bytes[end - 1] === CR) end -= 1;
    if (end > recordStart) {
      count();
      if (end - recordStart > CSV_ROW_LENGTH_MAX) handlers.error({ line, reason: TOO_LONG });
      else if (separators >= CSV_FIELD_COUNT_MAX) {
        handlers.error({ line, reason: TOO_MANY_FIELDS });
      } else {
        ends[separators] = end;
        view.line = line;
        view.count = separators + 1;
        handlers.record(view);
      }
    }
    line += 1;
    recordStart = at + 1;
    separators = 0;
    starts[0] = recordStart;
  };
  /** One byte the word scan flagged: a separator, a line break or (rarely) neither. */
  const flagged = (bytes: Buffer, at: number) => {
    const c = bytes[at];
    if (c === delimiterCode) {
      if (separators < CSV_FIELD_COUNT_MAX) {
        ends[separators] = at;
        starts[separators + 1] = at + 1;
      }
      separators += 1;
    } else if (c === LF) lineBreak(bytes, at);
  };
  /** The bytes `from…to` one by one (the few around the aligned words). */
  const byteByByte = (bytes: Buffer, from: number, to: number) => {
    for (let at = from; at < to; at += 1) {
      const c = bytes[at];
      if (c === delimiterCode || c === LF) flagged(bytes, at);
    }
  };
  /** Plain records of ASCII bytes as views; the unfinished rest is kept (or handed over). */
  const plain = (bytes: Buffer) => {
    view.bytes = bytes;
    const length = bytes.length;
    recordStart = 0;
    separators = 0;
    starts[0] = 0;
    if (handlers.block !== undefined) {
      // The block handler declines any record with a quote or a byte above 0x7f, and the
      // scanner looks at each declined record before cutting it: no scan of the piece up front.
      const odd = byBlocks(handlers.block, bytes, length);
      const pos = recordStart;
      // The unfinished rest is kept only as ASCII (a last line without a line break is read
      // as latin1): a non-ASCII byte in it, like a quote or a non-ASCII byte in a record, an
      // endless line too, and the full parser takes over here.
      if (
        odd ||
        length - pos > CSV_ROW_LENGTH_MAX ||
        (pos < length && !isAscii(bytes.subarray(pos)))
      ) {
        toSlow(decoder.decode(bytes.subarray(pos)));
        pending = EMPTY_BYTES;
      } else {
        pending = pos >= length ? EMPTY_BYTES : Buffer.from(bytes.subarray(pos));
      }
      return;
    }
    if (!isAscii(bytes)) {
      toSlow(decoder.decode(bytes));
      pending = EMPTY_BYTES;
      return;
    }
    // Records are cut up to the first quote (nearly always none, found natively); the record
    // holding it goes to the full parser.
    const quoteAt = bytes.indexOf(QUOTE);
    const limit = quoteAt === -1 ? length : quoteAt;
    byWords(bytes, limit);
    const pos = recordStart;
    if (pos >= length) {
      pending = EMPTY_BYTES;
    } else if (quoteAt !== -1 || length - pos > CSV_ROW_LENGTH_MAX) {
      // A quote (or an endless line): the full parser takes over from this record.
      toSlow(bytes.toString('latin1', pos));
      pending = EMPTY_BYTES;
    } else {
      pending = Buffer.from(bytes.subarray(pos));
    }
  };
  const blockResult: CsvBlockResult = { next: 0, records: 0, declined: false, plain: false };
  /**
   * Runs of records to the block handler; the records it declines cut here, one at a time.
   * True when it stopped at a record the full parser must read (a quote or a non-ASCII byte).
   */
  const byBlocks = (
    block: NonNullable<CsvScanHandlers['block']>,
    bytes: Buffer,
    limit: number,
  ): boolean => {
    let at = 0;
    while (at < limit) {
      blockResult.next = at;
      blockResult.records = 0;
      blockResult.declined = true;
      blockResult.plain = false;
      block(bytes, at, limit, line, blockResult);
      const taken = blockResult.records;
      if (taken > 0) {
        count(taken);
        line += taken;
        at = blockResult.next;
      }
      recordStart = at;
      if (!blockResult.declined) break;
      const lf = bytes.indexOf(LF, at);
      if (lf === -1 || lf >= limit) break;
      if (!blockResult.plain) {
        for (let i = at; i < lf; i += 1) {
          const c = bytes[i] ?? 0;
          if (c === QUOTE || c > 0x7f) return true;
        }
      }
      separators = 0;
      starts[0] = at;
      byteByByte(bytes, at, lf + 1);
      at = lf + 1;
    }
    return false;
  };
  /** Records cut by the scanner itself, up to `limit`. */
  const byWords = (bytes: Buffer, limit: number) => {
    // Separators and line breaks are found four bytes at a time: a byte equal to the one looked
    // for becomes zero after an XOR, and the classic "has a zero byte" test flags it (every
    // real one, and rarely a false one, which `flagged` ignores). The bytes before the first
    // aligned word and after the last are looked at one by one.
    const offset = bytes.byteOffset;
    const head = LITTLE_ENDIAN ? Math.min(limit, (4 - (offset & 3)) & 3) : limit;
    const wordCount = LITTLE_ENDIAN ? (limit - head) >> 2 : 0;
    byteByByte(bytes, 0, head);
    if (wordCount > 0) {
      const words = new Int32Array(bytes.buffer, offset + head, wordCount);
      const d = Math.imul(delimiterCode, 0x01010101);
      for (let w = 0; w < wordCount; w += 1) {
        const x = words[w] ?? 0;
        const a = x ^ d;
        const b = x ^ 0x0a0a0a0a;
        let hits = (((a - 0x01010101) & ~a) | ((b - 0x01010101) & ~b)) & 0x80808080;
        // At most four flags a word, lowest byte first (little-endian).
        while (hits !== 0) {
          const bit = 31 - Math.clz32(hits & -hits);
          hits &= hits - 1;
          flagged(bytes, head + (w << 2) + (bit >> 3));
        }
      }
    }
    byteByByte(bytes, head + (wordCount << 2), limit);
  };
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; at += CSV_PIECE_LENGTH) {
      const active = slow as CsvParser | null;
      if (active !== null || typeof chunk === 'string') {
        const text =
          typeof chunk === 'string'
            ? chunk.slice(at, at + CSV_PIECE_LENGTH)
            : decoder.decode(chunk.subarray(at, at + CSV_PIECE_LENGTH));
        if (active === null) {
          toSlow(decoder.decode(pending) + text, !first);
          pending = EMPTY_BYTES;
        } else {
          const out: CsvItem[] = [];
          active.push(text, out);
          dispatch(out);
        }
        first = false;
        continue;
      }
      let piece = Buffer.isBuffer(chunk)
        ? chunk.subarray(at, at + CSV_PIECE_LENGTH)
        : Buffer.from(
            chunk.buffer,
            chunk.byteOffset + at,
            Math.min(CSV_PIECE_LENGTH, chunk.length - at),
          );
      const atStart = first && pending.length === 0;
      first = false;
      if (atStart && piece[0] === 0xef) {
        if (piece.length < 3) {
          // A byte order mark may be split across chunks: the full parser sees the start.
          toSlow(decoder.decode(piece), false);
          continue;
        }
        if (piece[1] === 0xbb && piece[2] === 0xbf) piece = piece.subarray(3);
      }
      // The unfinished record of the last piece is completed on its own, so the piece itself
      // is never copied.
      if (pending.length > 0) {
        const nl = piece.indexOf(10);
        if (nl !== -1 && nl + 1 < piece.length) {
          plain(Buffer.concat([pending, piece.subarray(0, nl + 1)]));
          piece = piece.subarray(nl + 1);
          const handedOver = slow as CsvParser | null;
          if (handedOver !== null) {
            const out: CsvItem[] = [];
            handedOver.push(decoder.decode(piece), out);
            dispatch(out);
            continue;
          }
        }
      }
      plain(pending.length === 0 ? piece : Buffer.concat([pending, piece]));
    }
  }
  const out: CsvItem[] = [];
  const active = slow as CsvParser | null;
  if (active !== null) {
    active.push(decoder.end(), out);
    active.end(out);
  } else if (pending.length > 0) {
    const last = new CsvParser({ ...options, firstLine: line, midStream: true });
    last.push(pending.toString('latin1'), out);
    last.end(out);
  }
  dispatch(out);
}

/** The same, one item at a time (convenient; slower on millions of rows). */
export async function* readCsv(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvOptions = {},
): AsyncGenerator<CsvItem, void, undefined> {
  for await (const batch of readCsvBatches(source, options)) yield* batch;
}

/** Parses a whole CSV text at once (tests, small files). */
export function parseCsvText(text: string, options: CsvOptions = {}): CsvItem[] {
  const parser = new CsvParser(options);
  const out: CsvItem[] = [];
  parser.push(text, out);
  parser.end(out);
  return out;
}

/** One CSV field, quoted when it must be (RFC 4180). */
export function csvQuote(field: string, delimiter = ','): string {
  return field.includes(delimiter) ||
    field.includes('"') ||
    field.includes('\n') ||
    field.includes('\r') ||
    field.startsWith(BOM)
    ? `"${field.replaceAll('"', '""')}"`
    : field;
}

/** One record without its line break. A record of one empty field is written `""`. */
export function csvRecord(fields: readonly string[], delimiter = ','): string {
  if (fields.length === 1 && fields[0] === '') return '""';
  return fields.map((field) => csvQuote(field, delimiter)).join(delimiter);
}

/** A CSV document, one record per line (`\n`, or `\r\n` when asked). */
export function csvDocument(
  rows: readonly (readonly string[])[],
  options: { delimiter?: string; lineBreak?: '\n' | '\r\n' } = {},
): string {
  const lineBreak = options.lineBreak ?? '\n';
  return rows.map((row) => csvRecord(row, options.delimiter) + lineBreak).join('');
}
