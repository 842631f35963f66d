/**
 * The statement renderer the app layer uses (port `StatementRenderer` in lib/app/statements.ts):
 * PDF with the fonts and the seller's name given once, CSV as it is.
 */
import type { StatementRenderer } from '../app/statements';
import type { Statement } from '../domain/statements/statement';
import type { StatementFonts } from './fonts';
import { renderStatementCsv } from './render-csv';
import { renderStatementPdf } from './render-pdf';

export function createStatementRenderer(options: {
  readonly fonts: StatementFonts;
  readonly sellerName: string;
}): StatementRenderer {
  return {
    pdf: (statement: Statement) => renderStatementPdf(statement, options),
    csv: (statement: Statement) => renderStatementCsv(statement),
  };
}

/**
 * The same renderer with the fonts read on first use (once per process): building the container
 * stays synchronous and a function that never renders a PDF never reads them.
 */
export function createLazyStatementRenderer(options: {
  readonly sellerName: string;
  readonly loadFonts: () => Promise<StatementFonts>;
}): StatementRenderer {
  let ready: Promise<StatementRenderer> | null = null;
  const renderer = () => {
    ready ??= options
      .loadFonts()
      .then((fonts) => createStatementRenderer({ fonts, sellerName: options.sellerName }))
      .catch((error: unknown) => {
        ready = null; // a missing font file may be fixed without a restart
        throw error;
      });
    return ready;
  };
  return {
    pdf: async (statement: Statement) => (await renderer()).pdf(statement),
    csv: (statement: Statement) => renderStatementCsv(statement),
  };
}
