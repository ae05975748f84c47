/**
 * Folding text to the plain ASCII forms the identifier patterns read, without losing
 * where each character came from: full-width forms (`５５５`, `＠`, `（`), digits of every
 * script (`٥٥٥`, `𝟓`), Unicode dashes and spaces become their ASCII twins, one folded
 * character per original code point, so a match in the folded text maps back to the
 * exact span of the original.
 */

/** Decimal digits of any script (Unicode `Nd`). */
const DECIMAL_DIGIT = /^\p{Nd}$/u;
/** Dashes and minus signs a number may be written with. */
const DASHES = /^[\u2010-\u2015\u2212\uFE58\uFE63]$/u;
/** Space separators (no-break, thin, ideographic, ...). */
const SPACES = /^\p{Zs}$/u;

const digitValues = new Map<number, number>();

/**
 * The value (0-9) of a decimal digit of any script. Unicode encodes every `Nd` digit in
 * contiguous runs of ten ascending from 0 (a stability guarantee), so the value is the
 * distance from the start of the maximal run, modulo ten.
 */
function digitValue(codePoint: number): number {
  const cached = digitValues.get(codePoint);
  if (cached !== undefined) return cached;
  let start = codePoint;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start -= 1;
  const value = (codePoint - start) % 10;
  digitValues.set(codePoint, value);
  return value;
}

/** The ASCII twin of one code point, or undefined when it has none worth reading. */
function foldCodePoint(codePoint: number, char: string): string | undefined {
  if (codePoint < 0x80) return undefined;
  if (codePoint >= 0xff01 && codePoint <= 0xff5e) return String.fromCharCode(codePoint - 0xfee0);
  if (DECIMAL_DIGIT.test(char)) return String(digitValue(codePoint));
  if (DASHES.test(char)) return '-';
  if (SPACES.test(char)) return ' ';
  return undefined;
}

/** Folded text and, for each of its UTF-16 units, the span of the original it stands for. */
export interface FoldedText {
  text: string;
  /** Original start index of each folded unit. */
  starts: number[];
  /** Original end index (exclusive) of each folded unit. */
  ends: number[];
}

/** Folds `original` (see the module comment); ASCII text comes back as is. */
export function foldText(original: string): FoldedText {
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let index = 0;
  for (const char of original) {
    const codePoint = char.codePointAt(0) as number;
    const folded = foldCodePoint(codePoint, char) ?? char;
    for (let unit = 0; unit < folded.length; unit += 1) {
      starts.push(index);
      ends.push(index + char.length);
    }
    text += folded;
    index += char.length;
  }
  return { text, starts, ends };
}
