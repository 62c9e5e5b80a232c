import { z } from "zod";
import { defineTemplate, formatTime, html, layout, oneLine } from "../template.ts";

/** A license bought by card expires soon: when, and where to renew it. */
export const expiryReminder = defineTemplate({
  data: z.object({
    tokenId: z.string(),
    workId: z.string(),
    /** The work's title, null when its metadata is not known. */
    title: z.string().nullable(),
    /** When the license's current term ends. */
    expiresAt: z.string(),
    days: z.number().int().positive(),
  }),
  render(data, ctx) {
    const what = data.title ?? `work #${data.workId}`;
    const url = `${ctx.platform.publicUrl}/works/${encodeURIComponent(data.workId)}`;
    const when = formatTime(data.expiresAt);
    const lines = [
      `Your license #${data.tokenId} for ${what} expires on ${when}, in ${data.days} day${data.days === 1 ? "" : "s"} or less.`,
      `Renew it from the work's page: ${url}`,
    ];
    return {
      subject: oneLine(`Your license for ${what} expires on ${when}`),
      text: lines.join("\n\n"),
      html: layout(
        ctx,
        "Your license expires soon",
        html`<p>Your license #${data.tokenId} for <strong>${what}</strong> expires on ${when}.</p>
          <p><a href="${url}" style="color:#1f4e79">Renew it from the work's page</a></p>`,
      ),
      attachments: [],
    };
  },
});
