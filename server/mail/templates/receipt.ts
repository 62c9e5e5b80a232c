import { z } from "zod";
import { defineTemplate, formatMoney, formatTime, html, layout, oneLine } from "../template.ts";

/** The receipt of a paid card order: what was bought, for how much, and the payment's reference. */
export const receipt = defineTemplate({
  data: z.object({
    orderId: z.string(),
    paidAt: z.string(),
    offerId: z.string(),
    title: z.string(),
    listAmount: z.string(),
    discount: z.string(),
    amount: z.string(),
    currency: z.string(),
    couponCode: z.string().nullable(),
    paymentRef: z.string(),
  }),
  render(data, ctx) {
    const rows: [string, string][] = [
      ["Order", data.orderId],
      ["Date", formatTime(data.paidAt)],
      ["License", `${data.title} (offer #${data.offerId})`],
      ["List price", formatMoney(data.listAmount, data.currency)],
      ...(BigInt(data.discount) > 0n
        ? [
            [
              data.couponCode ? `Discount (${data.couponCode})` : "Discount",
              `-${formatMoney(data.discount, data.currency)}`,
            ] as [string, string],
          ]
        : []),
      ["Paid", formatMoney(data.amount, data.currency)],
      ["Payment reference", data.paymentRef],
    ];
    const title = "Your receipt";
    return {
      subject: oneLine(`Your receipt from ${ctx.platform.name}: ${data.title}`),
      text: [
        `Thank you for your purchase from ${ctx.platform.name}.`,
        "",
        ...rows.map(([label, value]) => `${label}: ${value}`),
        "",
        "Keep your order secret: with it you can find this order again.",
      ].join("\n"),
      html: layout(
        ctx,
        title,
        html`<p>Thank you for your purchase.</p>
          <table style="border-collapse:collapse;width:100%">
            ${rows.map(
              ([label, value]) =>
                html`<tr>
                  <th style="text-align:left;padding:4px 12px 4px 0;vertical-align:top;font-weight:600">
                    ${label}
                  </th>
                  <td style="padding:4px 0;overflow-wrap:anywhere">${value}</td>
                </tr>`,
            )}
          </table>
          <p style="color:#5b6676;font-size:14px">
            Keep your order secret: with it you can find this order again.
          </p>`,
      ),
      attachments: [],
    };
  },
});
