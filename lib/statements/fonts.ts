/**
 * The fonts statements are drawn with: DejaVu Sans regular and bold, shipped by the npm package
 * `dejavu-fonts-ttf` (they cover Latin, Greek and Cyrillic partner names; nothing is fetched at
 * run time). In a Lambda bundle, where node_modules is gone, the bundle copies the two files
 * into a folder named by AGORA_FONTS_DIR.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const FONTS_DIR_ENV = 'AGORA_FONTS_DIR';
export const STATEMENT_FONT_FILES = {
  regular: 'DejaVuSans.ttf',
  bold: 'DejaVuSans-Bold.ttf',
} as const;
/** A font file larger than this is not DejaVu Sans (each is under 1 MB). */
export const FONT_BYTES_MAX = 4 * 1024 * 1024;
const PACKAGE_DIR = 'dejavu-fonts-ttf/ttf';

export interface StatementFonts {
  readonly regular: Buffer;
  readonly bold: Buffer;
}

/** The folder holding the two TTF files: AGORA_FONTS_DIR when set, else the npm package. */
export function statementFontsDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[FONTS_DIR_ENV]?.trim();
  if (configured) return configured;
  const require = createRequire(import.meta.url);
  const regular = require.resolve(`${PACKAGE_DIR}/${STATEMENT_FONT_FILES.regular}`);
  return regular.slice(0, regular.length - STATEMENT_FONT_FILES.regular.length - 1);
}

async function readFont(dir: string, file: string): Promise<Buffer> {
  const path = join(dir, file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(
      `Statement font ${path} could not be read (set ${FONTS_DIR_ENV} to a folder holding ${Object.values(STATEMENT_FONT_FILES).join(' and ')}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  // A TrueType file starts with 0x00010000 (or 'true').
  const magic = bytes.subarray(0, 4).toString('hex');
  if (bytes.length > FONT_BYTES_MAX || (magic !== '00010000' && magic !== '74727565')) {
    throw new Error(`${path} is not a TrueType font`);
  }
  return bytes;
}

/** Reads DejaVu Sans regular and bold (once per process is enough: keep the result). */
export async function loadStatementFonts(
  env: NodeJS.ProcessEnv = process.env,
): Promise<StatementFonts> {
  const dir = statementFontsDir(env);
  const [regular, bold] = await Promise.all([
    readFont(dir, STATEMENT_FONT_FILES.regular),
    readFont(dir, STATEMENT_FONT_FILES.bold),
  ]);
  return { regular, bold };
}
