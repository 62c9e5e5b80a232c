/**
 * A card order's receipt as a one-page A4 PDF: the platform's details (name, postal address, VAT
 * or company id), the order, the license bought and the amounts. Drawn from the receipt alone, with
 * its payment time as the document's date, so the same receipt always gives the same bytes — the
 * one mailed and the one downloaded later are the same file.
 */
import PDFDocument from "pdfkit";
import { formatMoney } from "../mail/template.ts";
import { receiptItem, type Receipt } from "./receipts.ts";

/** Who issues the receipt. */
export interface ReceiptIssuer {
  name: string;
  postalAddress: string | null;
  taxId: string | null;
}

const MARGIN = 56;
const COLOR = { ink: "#1a1a1a", muted: "#5b6676", accent: "#1f4e79", rule: "#c7d0db" };
const LABEL_WIDTH = 150;

function utc(iso: string): string {
  return `${iso.slice(0, 19).replace("T", " ")} UTC`;
}

/** The receipt's file name. */
export function receiptFileName(receipt: Receipt): string {
  return `receipt-${receipt.orderId}.pdf`;
}

export function renderReceiptPdf(receipt: Receipt, issuer: ReceiptIssuer): Promise<Buffer> {
  const paidAt = new Date(receipt.paidAt);
  const doc = new PDFDocument({
    size: "A4",
    margin: MARGIN,
    info: {
      Title: `Receipt ${receipt.orderId}`,
      Author: issuer.name,
      Creator: issuer.name,
      Producer: issuer.name,
      CreationDate: paidAt,
      ModDate: paidAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const width = doc.page.width - 2 * MARGIN;

  doc
    .font("Helvetica-Bold")
    .fontSize(18)
    .fillColor(COLOR.accent)
    .text(issuer.name, MARGIN, MARGIN, { width });
  doc.font("Helvetica").fontSize(9.5).fillColor(COLOR.muted);
  if (issuer.postalAddress) doc.text(issuer.postalAddress, { width });
  if (issuer.taxId) doc.text(`VAT / company id: ${issuer.taxId}`, { width });
  doc.moveDown(1.5);
  doc.font("Helvetica-Bold").fontSize(15).fillColor(COLOR.ink).text("Receipt", { width });
  doc.moveDown(0.5);

  const field = (label: string, value: string, bold = false) => {
    const y = doc.y;
    doc
      .font("Helvetica")
      .fontSize(9.5)
      .fillColor(COLOR.muted)
      .text(label, MARGIN, y, { width: LABEL_WIDTH - 8 });
    const labelEnd = doc.y;
    doc
      .font(bold ? "Helvetica-Bold" : "Helvetica")
      .fontSize(10)
      .fillColor(COLOR.ink)
      .text(value, MARGIN + LABEL_WIDTH, y, { width: width - LABEL_WIDTH });
    doc.y = Math.max(doc.y, labelEnd) + 4;
  };
  const rule = () => {
    const y = doc.y + 2;
    doc
      .moveTo(MARGIN, y)
      .lineTo(MARGIN + width, y)
      .lineWidth(0.6)
      .strokeColor(COLOR.rule)
      .stroke();
    doc.y = y + 8;
  };

  field("Receipt number", receipt.orderId);
  field("Date", utc(receipt.paidAt));
  field("Item", receiptItem(receipt));
  if (receipt.tokenId) field("License token", `#${receipt.tokenId}`);
  rule();
  field("List price", formatMoney(receipt.listAmount, receipt.currency));
  if (receipt.saleAmount !== null) field("Sale price", formatMoney(receipt.saleAmount, receipt.currency));
  if (BigInt(receipt.discount) > 0n) {
    field(
      receipt.couponCode ? `Discount (coupon ${receipt.couponCode})` : "Discount",
      `-${formatMoney(receipt.discount, receipt.currency)}`,
    );
  }
  field("Amount paid", formatMoney(receipt.amount, receipt.currency), true);
  field("Currency", receipt.currency.toUpperCase());
  rule();
  field("Payment", receipt.paymentId);
  field("Payment reference", receipt.paymentRef);
  doc.moveDown(1.5);
  doc
    .font("Helvetica")
    .fontSize(8.5)
    .fillColor(COLOR.muted)
    .text(
      "Paid by card. The license is an ERC-721 token; the payment reference above is the one its mint carries on chain.",
      MARGIN,
      doc.y,
      { width },
    );
  doc.end();
  return done;
}
