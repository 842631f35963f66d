// Proves the streaming CSV reader: any table written as CSV reads back identical, with the physical line each record starts on, whatever the chunk boundaries; the byte-level scanner agrees with it; malformed records become row errors and reading continues.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CSV_FIELD_COUNT_MAX,
  CSV_ROW_LENGTH_MAX,
  type CsvItem,
  CsvParser,
  completeUtf8Length,
  csvDocument,
  csvRecord,
  csvViewField,
  parseCsvText,
  readCsv,
  readCsvBatches,
  scanCsv,
} from '../../../lib/tools/csv-stream';

/** Cuts bytes at the given offsets (sorted, deduplicated, inside the buffer). */
function chunksOf(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    out.push(bytes.subarray(from, point));
    from = point;
  }
  out.push(bytes.subarray(from));
  return out;
}

async function readAll(chunks: Iterable<Uint8Array | string>): Promise<CsvItem[]> {
  const items: CsvItem[] = [];
  for await (const batch of readCsvBatches(chunks)) items.push(...batch);
  return items;
}

async function scanAll(
  chunks: Iterable<Uint8Array | string>,
  options: { delimiter?: string } = {},
): Promise<CsvItem[]> {
  const items: CsvItem[] = [];
  await scanCsv(
    chunks,
    {
      record: (view) =>
        items.push({
          line: view.line,
          fields: Array.from({ length: view.count }, (_, i) => csvViewField(view, i)),
        }),
      fields: (row) => items.push(row),
      error: (error) => items.push(error),
    },
    options,
  );
  return items;
}

/** The line each record of a table starts on when written one record per line. */
function expectedLines(rows: readonly (readonly string[])[]): number[] {
  let line = 1;
  return rows.map((row) => {
    const start = line;
    line += 1 + row.reduce((sum, field) => sum + (field.match(/\n/g)?.length ?? 0), 0);
    return start;
  });
}

// Fields from an alphabet rich in CSV's special characters, plus any unicode.
const field = fc.oneof(
  fc.string({
    unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', '€', '😀'),
    maxLength: 8,
  }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
const table = fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), {
  minLength: 1,
  maxLength: 12,
});

describe('csv-stream: round trip', () => {
  it('reads back any table of strings, with line numbers, whatever the chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        table,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n'),
        async (rows, cuts, lineBreak) => {
          const text = csvDocument(rows, { lineBreak });
          const bytes = Buffer.from(text, 'utf8');
          const lines = expectedLines(rows);
          const want = rows.map((fields, i) => ({ line: lines[i], fields }));
          expect(await readAll(chunksOf(bytes, cuts))).toEqual(want);
          expect(await scanAll(chunksOf(bytes, cuts))).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with the one-shot parser on arbitrary (also malformed) text, bytes or strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', 'é', 'x'), maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (text, cuts) => {
          const want = parseCsvText(text);
          const bytes = Buffer.from(text, 'utf8');
          expect(await readAll(chunksOf(bytes, cuts))).toEqual(want);
          expect(await scanAll(chunksOf(bytes, cuts))).toEqual(want);
          const pieces = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const strings: string[] = [];
          let from = 0;
          for (const at of pieces) {
            strings.push(text.slice(from, at));
            from = at;
          }
          strings.push(text.slice(from));
          expect(await readAll(strings)).toEqual(want);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finds separators a word at a time exactly: near-miss bytes, any delimiter, any alignment', async () => {
    // The word scan flags bytes by arithmetic that can also flag a neighbour of a real match
    // (the byte one above it, e.g. "-" after ","): only ASCII here, so the fast path runs.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(',', ';', '\t', '|'),
        fc.string({
          unit: fc.constantFrom(
            'a',
            ',',
            '-',
            ';',
            '<',
            '\t',
            '\n',
            '\r',
            '\v',
            '#',
            '"',
            '}',
            '|',
          ),
          maxLength: 300,
        }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.nat({ max: 7 }),
        async (delimiter, text, cuts, shift) => {
          const want = parseCsvText(text, { delimiter });
          // The same bytes at another offset of their buffer: every alignment of the words.
          const bytes = Buffer.alloc(text.length + shift, 0x41).subarray(shift);
          bytes.write(text, 'latin1');
          expect(await scanAll(chunksOf(bytes, cuts), { delimiter })).toEqual(want);
        },
      ),
      { numRuns: 700 },
    );
  });

  it('cuts records across pieces with the word scan: long quote-free ASCII, then a late quote', async () => {
    // Rows long enough that a file spans several 32 KB pieces, so records are carried over.
    const row = fc.array(
      fc.string({ unit: fc.constantFrom('a', '-', '<', '+', '0', '\v', '\r'), maxLength: 40 }),
      { minLength: 1, maxLength: 30 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 50, maxLength: 120 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.nat({ max: 3 }),
        async (rows, lateQuote, cuts, shift) => {
          let text = rows.map((r) => r.join(',')).join('\n');
          while (text.length < 70_000) text += `\n${text}`;
          if (lateQuote) text = `${text}\n"x,y"\nz,"w""v"\n`;
          const want = parseCsvText(text);
          const bytes = Buffer.alloc(text.length + shift).subarray(shift);
          bytes.write(text, 'latin1');
          expect(await scanAll(chunksOf(bytes, cuts))).toEqual(want);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('csv-stream: RFC 4180 details', () => {
  it('strips a byte order mark, even one split across chunks', async () => {
    const bytes = Buffer.from('\uFEFFa,b\nc,d\n', 'utf8');
    const want = [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
    ];
    expect(await readAll([bytes])).toEqual(want);
    expect(await scanAll([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)])).toEqual(
      want,
    );
    expect(await readAll([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual(want);
  });

  it('keeps escaped quotes and line breaks inside quoted fields; later lines jump', () => {
    expect(parseCsvText('id,note\n1,"say ""hi""\non two lines"\n2,plain\r\n3,"x"')).toEqual([
      { line: 1, fields: ['id', 'note'] },
      { line: 2, fields: ['1', 'say "hi"\non two lines'] },
      { line: 4, fields: ['2', 'plain'] },
      { line: 5, fields: ['3', 'x'] },
    ]);
  });

  it('skips blank lines but counts them; a lone "" is one empty field', () => {
    expect(parseCsvText('a\n\n\r\n""\nb')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 4, fields: [''] },
      { line: 5, fields: ['b'] },
    ]);
    expect(csvRecord([''])).toBe('""');
  });

  it('decodes UTF-8 split anywhere, and cuts only at sequence boundaries', async () => {
    const text = 'name\n€uro,😀\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      expect(await readAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(
        parseCsvText(text),
      );
    }
    expect(completeUtf8Length(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
    expect(completeUtf8Length(Buffer.from([0x61, 0xe2, 0x82, 0xac]))).toBe(4);
  });

  it('yields one item at a time too', async () => {
    const items: CsvItem[] = [];
    for await (const item of readCsv(['a,b\n', 'c,d'])) items.push(item);
    expect(items).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
    ]);
  });

  it('refuses a delimiter it cannot use, and reads another one', () => {
    expect(() => new CsvParser({ delimiter: '"' })).toThrow(RangeError);
    expect(parseCsvText('a;"b;c"\n', { delimiter: ';' })).toEqual([
      { line: 1, fields: ['a', 'b;c'] },
    ]);
  });
});

describe('csv-stream: malformed records are row errors, and reading continues', () => {
  it('an unterminated quote costs its own line only', async () => {
    const text = 'a,b\n1,"open\n2,x\n3,y\n';
    const want = [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, reason: 'unterminated quoted field' },
      { line: 3, fields: ['2', 'x'] },
      { line: 4, fields: ['3', 'y'] },
    ];
    expect(parseCsvText(text)).toEqual(want);
    expect(await scanAll([Buffer.from(text)])).toEqual(want);
  });

  it('text after a closing quote is an error for that record', () => {
    expect(parseCsvText('"a"b,c\nd,e\n')).toEqual([
      { line: 1, reason: 'unexpected character after a closing quote' },
      { line: 2, fields: ['d', 'e'] },
    ]);
  });

  it(`more than ${CSV_FIELD_COUNT_MAX} fields is an error, quoted or not`, async () => {
    const wide = Array.from({ length: CSV_FIELD_COUNT_MAX + 1 }, () => 'x').join(',');
    const quoted = Array.from({ length: CSV_FIELD_COUNT_MAX + 1 }, () => '"x"').join(',');
    const text = `${wide}\nok\n${quoted}\nok\n`;
    const want = [
      { line: 1, reason: `more than ${CSV_FIELD_COUNT_MAX} fields` },
      { line: 2, fields: ['ok'] },
      { line: 3, reason: `more than ${CSV_FIELD_COUNT_MAX} fields` },
      { line: 4, fields: ['ok'] },
    ];
    expect(parseCsvText(text)).toEqual(want);
    expect(await scanAll([Buffer.from(text)])).toEqual(want);
  });

  it(`a record longer than ${CSV_ROW_LENGTH_MAX} characters is an error, in constant memory`, async () => {
    const long = 'x'.repeat(CSV_ROW_LENGTH_MAX + 10);
    const text = `a\n${long}\nb\n"${long}\nc\n`;
    const chunks = chunksOf(Buffer.from(text), [100_000, 700_000, 1_300_000, 2_000_000]);
    const want = [
      { line: 1, fields: ['a'] },
      { line: 2, reason: `row longer than ${CSV_ROW_LENGTH_MAX} characters` },
      { line: 3, fields: ['b'] },
      {
        line: 4,
        reason: `unterminated quoted field (no closing quote within ${CSV_ROW_LENGTH_MAX} characters)`,
      },
      { line: 5, fields: ['c'] },
    ];
    expect(await readAll(chunks)).toEqual(want);
    expect(await scanAll(chunks)).toEqual(want);
  });
});
