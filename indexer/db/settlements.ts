import { historyTable, type Origin } from "./rows.ts";

export interface SettlementPaidRow extends Origin {
  settlement_id: string;
  treasury: string;
  total: string;
  payment_refs: string[];
}

export interface SettlementPaymentRow extends Origin {
  settlement_id: string;
  payee: string;
  amount: string;
  treasury: string;
}

export const settlementsPaid = historyTable<SettlementPaidRow>("settlements_paid");
export const settlementPayments = historyTable<SettlementPaymentRow>("settlement_payments");
