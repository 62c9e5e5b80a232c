/** CSV as RFC 4180 writes it, safe to open in a spreadsheet. */

/** Cells a spreadsheet would take for a formula (or whose leading control it would drop) start with one of these. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell: a leading apostrophe keeps a spreadsheet from running text that starts like a formula
 * (CSV injection), and a cell holding a comma, a quote or a line break is quoted, its quotes doubled.
 */
export function csvCell(value: string | number | null): string {
  let text = value === null ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header and its rows, each line ended by CRLF. */
export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  return [header, ...rows].map((row) => `${row.map(csvCell).join(",")}\r\n`).join("");
}
