import { z } from "zod";
import { defineTemplate, factTable, formatMoney, formatTime, html, layout, oneLine } from "../template.ts";

/** The creator's decision on a buyer's refund request, with their reason. */
export const refundDecision = defineTemplate({
  data: z.object({
    orderId: z.string(),
    offerId: z.string(),
    approved: z.boolean(),
    /** The creator's reason. */
    reason: z.string(),
    /** What the buyer asked with. */
    requestReason: z.string(),
    amount: z.string(),
    currency: z.string(),
    decidedAt: z.string(),
  }),
  render(data, ctx) {
    const amount = formatMoney(data.amount, data.currency);
    const title = data.approved ? "Your refund is approved" : "Your refund request was declined";
    const outcome = data.approved
      ? `${amount} goes back to your card, and the license of this order is revoked.`
      : "Your payment stands and you keep the license.";
    const rows: [string, string][] = [
      ["Order", data.orderId],
      ["Offer", `#${data.offerId}`],
      ["Decided", formatTime(data.decidedAt)],
      ["The creator's reason", data.reason],
      ["Your request", data.requestReason],
    ];
    return {
      subject: oneLine(`${title} (${ctx.platform.name}, order ${data.orderId.slice(0, 8)})`),
      text: [title + ".", "", outcome, "", ...rows.map(([label, value]) => `${label}: ${value}`)].join("\n"),
      html: layout(
        ctx,
        title,
        html`<p>${outcome}</p>
          ${factTable(rows, { preWrap: true })}`,
      ),
      attachments: [],
    };
  },
});
