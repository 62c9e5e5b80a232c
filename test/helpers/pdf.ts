import { createRequire } from "node:module";
import path from "node:path";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

const require = createRequire(import.meta.url);
const STANDARD_FONTS = `${path.join(path.dirname(require.resolve("pdfjs-dist/package.json")), "standard_fonts")}/`;

export interface PdfContent {
  /** Text of each page, items joined by spaces. */
  pages: string[];
  /** Width and height of each page in points. */
  sizes: [number, number][];
  title: string | undefined;
}

/** Parses a PDF back with pdf.js and extracts its text, page sizes and title. */
export async function readPdf(bytes: Uint8Array): Promise<PdfContent> {
  const task = getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: STANDARD_FONTS,
  });
  const doc = await task.promise;
  const pages: string[] = [];
  const sizes: [number, number][] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const [x0, y0, x1, y1] = page.view as [number, number, number, number];
    sizes.push([x1 - x0, y1 - y0]);
    const content = await page.getTextContent();
    pages.push(content.items.map((item) => ("str" in item ? item.str : "")).join(" "));
  }
  const info = (await doc.getMetadata()).info as { Title?: string };
  await task.destroy();
  return { pages, sizes, title: info.Title };
}

/** Text with all whitespace removed, so that wrapped hashes can be searched for. */
export const squeeze = (text: string) => text.replace(/\s+/g, "");
