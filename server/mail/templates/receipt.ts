import { receiptFileName, renderReceiptPdf } from "../../orders/receipt-pdf.ts";
import { receiptItem, receiptSchema } from "../../orders/receipts.ts";
import { defineTemplate, factTable, formatMoney, formatTime, html, layout, oneLine } from "../template.ts";

/** The receipt of a card order whose payment was captured, with the receipt as a PDF. */
export const receipt = defineTemplate({
  data: receiptSchema,
  async render(data, ctx) {
    const rows: [string, string][] = [
      ["Receipt number", data.orderId],
      ["Date", formatTime(data.paidAt)],
      ["Item", receiptItem(data)],
      ["List price", formatMoney(data.listAmount, data.currency)],
      ...(data.saleAmount !== null
        ? [["Sale price", formatMoney(data.saleAmount, data.currency)] as [string, string]]
        : []),
      ...(BigInt(data.discount) > 0n
        ? [
            [
              data.couponCode ? `Discount (${data.couponCode})` : "Discount",
              `-${formatMoney(data.discount, data.currency)}`,
            ] as [string, string],
          ]
        : []),
      ["Paid", formatMoney(data.amount, data.currency)],
      ["Payment", data.paymentId],
    ];
    const intro = `Thank you for your purchase. Your receipt is attached as a PDF.`;
    const keep = "Keep your order secret: with it and this address you can find the order again.";
    return {
      subject: oneLine(`Your receipt from ${ctx.platform.name}: ${data.title ?? `offer #${data.offerId}`}`),
      text: [intro, "", ...rows.map(([label, value]) => `${label}: ${value}`), "", keep].join("\n"),
      html: layout(
        ctx,
        "Your receipt",
        html`<p>${intro}</p>
          ${factTable(rows)}
          <p style="color:#5b6676;font-size:14px">${keep}</p>`,
      ),
      attachments: [
        {
          filename: receiptFileName(data),
          contentType: "application/pdf",
          content: await renderReceiptPdf(data, ctx.platform),
        },
      ],
    };
  },
});
