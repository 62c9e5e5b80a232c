import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export type Figures = Record<string, number>;

/**
 * Prints figures as a two-column table and writes them to bench/results/<name>.json, with `details`
 * (query plans, say) after them.
 */
export async function report(
  name: string,
  figures: Figures,
  notes: Record<string, string> = {},
  details: Record<string, unknown> = {},
): Promise<string> {
  const width = Math.max(...Object.keys(figures).map((k) => k.length), 6);
  const lines = [`${"metric".padEnd(width)}  value`, `${"-".repeat(width)}  ${"-".repeat(12)}`];
  for (const [key, value] of Object.entries(figures)) {
    const shown = Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(2);
    lines.push(`${key.padEnd(width)}  ${shown}${notes[key] ? `  ${notes[key]}` : ""}`);
  }
  console.log(lines.join("\n"));
  const file = path.join("bench", "results", `${name}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ ...figures, ...details }, null, 2) + "\n");
  console.log(`\nwrote ${file}`);
  return file;
}
