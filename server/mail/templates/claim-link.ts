import { z } from "zod";
import { claimUrl } from "../../orders/claim-tokens.ts";
import { defineTemplate, formatMoney, html, layout } from "../template.ts";

/**
 * The one-time link that claims a card-paid license held for the buyer's email, with any wallet. The
 * mail records the claim's id only; the link's token is derived from it as the mail renders.
 */
export const claimLink = defineTemplate({
  data: z.object({
    orderId: z.string(),
    offerId: z.string(),
    amount: z.number(),
    currency: z.string(),
    claimId: z.string(),
    expiresInDays: z.number(),
  }),
  render(data, ctx) {
    const title = "Claim your license";
    const paid = formatMoney(data.amount, data.currency);
    const link = claimUrl(ctx.platform.publicUrl, ctx.claimToken(data.claimId));
    const days = `${data.expiresInDays} day${data.expiresInDays === 1 ? "" : "s"}`;
    return {
      subject: `${ctx.platform.name}: claim your license (order ${data.orderId})`,
      text: [
        `You paid ${paid} for a license of offer #${data.offerId} (order ${data.orderId}).`,
        "It is kept for you. To have it minted to a wallet, open this link, connect any wallet and sign in:",
        "",
        link,
        "",
        `The link works once, for ${days}. Once it has expired, find your order with this email address and your order secret to have a new one mailed.`,
      ].join("\n"),
      html: layout(
        ctx,
        title,
        html`<p>
            You paid ${paid} for a license of offer #${data.offerId} (order ${data.orderId}). It is kept for
            you.
          </p>
          <p>To have it minted to a wallet, open the link, connect any wallet and sign in:</p>
          <p>
            <a
              href="${link}"
              style="display:inline-block;background:#1f4e79;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none"
              >Claim the license</a
            >
          </p>
          <p style="color:#5b6676;font-size:13px">The link works once, for ${days}: ${link}</p>`,
      ),
      attachments: [],
    };
  },
});
