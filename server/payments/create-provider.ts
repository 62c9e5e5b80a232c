import type { Pool } from "pg";
import type { Config } from "../config.ts";
import { DevPaymentProvider } from "./dev.ts";
import type { PaymentProvider } from "./provider.ts";
import { StripePaymentProvider } from "./stripe.ts";

/** The configured payment provider: Stripe, or the local checkout page (PAYMENTS_PROVIDER=dev). */
export function createPaymentProvider(config: Config, db: Pool): PaymentProvider {
  const { payments } = config;
  if (payments.provider === "dev") {
    return new DevPaymentProvider({
      db,
      webhookSecret: payments.webhookSecret,
      publicUrl: config.http.publicUrl,
    });
  }
  return new StripePaymentProvider({
    secretKey: payments.stripeSecretKey!,
    webhookSecret: payments.webhookSecret,
    api: payments.stripeApi,
  });
}
