import { expect } from "chai";
import fc from "fast-check";
import {
  PLATFORM_REVENUE,
  PROVIDER_BALANCE,
  PROVIDER_FEES,
  TREASURY_SETTLEMENTS,
  payeeAccount,
  reinstatementPostings,
  reversalPostings,
  reversed,
  salePostings,
  settlementPostings,
  type Line,
  type SaleTerms,
} from "../../server/payouts/postings.ts";
import { modelledCardFee } from "../../server/payments/card-fees.ts";

const SPLIT = "0x00000000000000000000000000000000000000aa";
const REFERRER = "0x00000000000000000000000000000000000000bb";

const sum = (lines: readonly Line[]) => lines.reduce((total, l) => total + l.amount, 0);
const balanceOf = (account: string, ...bookings: Line[][]) =>
  sum(bookings.flat().filter((l) => l.account === account));

const terms = fc.record<SaleTerms>({
  amount: fc.integer({ min: 1, max: 10_000_000 }),
  providerFee: fc.integer({ min: 0, max: 1_000_000 }),
  platformFeeBps: fc.integer({ min: 0, max: 2_000 }),
  referrerBps: fc.integer({ min: 0, max: 8_000 }),
  split: fc.constant(SPLIT),
  referrer: fc.constantFrom(null, REFERRER),
});

describe("payout postings", () => {
  it("credits a $12.00 sale as the chain would: 5% platform fee, 10% to the approved referrer, the split the rest after Stripe's fee", () => {
    const fee = modelledCardFee(1200);
    expect(fee).to.equal(65);
    const lines = salePostings({
      amount: 1200,
      providerFee: fee,
      platformFeeBps: 500,
      referrerBps: 1000,
      split: SPLIT,
      referrer: REFERRER,
    });
    expect(lines).to.deep.equal([
      { account: PROVIDER_BALANCE, amount: 1135 },
      { account: PROVIDER_FEES, amount: 65 },
      { account: PLATFORM_REVENUE, amount: -125 },
      { account: payeeAccount(SPLIT), amount: -955 },
      { account: payeeAccount(REFERRER), amount: -120 },
    ]);
  });

  it("models Stripe's card fee as 2.9% + 30, rounded half up", () => {
    expect(modelledCardFee(100)).to.equal(33);
    expect(modelledCardFee(1000)).to.equal(59);
    expect(modelledCardFee(1017)).to.equal(59);
    expect(modelledCardFee(1018)).to.equal(60);
  });

  it("never credits a split less than nothing: a fee larger than the price is the platform's cost", () => {
    const lines = salePostings({
      amount: 20,
      providerFee: 31,
      platformFeeBps: 500,
      referrerBps: 0,
      split: SPLIT,
      referrer: null,
    });
    expect(balanceOf(payeeAccount(SPLIT), lines)).to.equal(0);
    expect(sum(lines)).to.equal(0);
    expect(lines.every((l) => l.amount !== 0)).to.equal(true);
  });

  it("balances every booking and takes back from each payee exactly what a refund or chargeback reverses", () => {
    fc.assert(
      fc.property(terms, fc.integer({ min: 0, max: 5_000 }), (t, disputeFee) => {
        const sale = salePostings(t);
        const refund = reversalPostings(sale, t.amount);
        const chargeback = reversalPostings(sale, t.amount, disputeFee);
        const won = reinstatementPostings(sale, t.amount);
        for (const booking of [sale, refund, chargeback, won]) {
          expect(sum(booking)).to.equal(0);
          expect(booking.every((l) => Number.isSafeInteger(l.amount) && l.amount !== 0)).to.equal(true);
        }
        const split = payeeAccount(SPLIT);
        const referrer = payeeAccount(REFERRER);
        expect(balanceOf(split, sale)).to.be.at.most(0);
        expect(balanceOf(split, sale, refund)).to.equal(0);
        expect(balanceOf(referrer, sale, refund)).to.equal(0);
        expect(balanceOf(split, sale, chargeback, won)).to.equal(balanceOf(split, sale));
        expect(balanceOf(referrer, sale, chargeback, won)).to.equal(balanceOf(referrer, sale));
        // The provider keeps its fee on a refund and its dispute fee on a chargeback.
        expect(balanceOf(PROVIDER_BALANCE, sale, refund)).to.equal(-t.providerFee);
        expect(balanceOf(PROVIDER_BALANCE, sale, chargeback, won)).to.equal(
          t.amount - t.providerFee - disputeFee,
        );
        // On the gross price, as LicenseToken._collect computes it.
        const commission = t.referrer ? Math.floor((t.amount * t.referrerBps) / 10_000) : 0;
        expect(-balanceOf(referrer, sale)).to.equal(commission);
      }),
      { seed: 17, numRuns: 500 },
    );
  });

  it("settles payees from the treasury and reverses a settlement line for line", () => {
    const lines = settlementPostings([
      { payee: SPLIT, amount: 955 },
      { payee: REFERRER, amount: 120 },
    ]);
    expect(sum(lines)).to.equal(0);
    expect(balanceOf(TREASURY_SETTLEMENTS, lines)).to.equal(-1075);
    expect(sum([...lines, ...reversed(lines)].filter((l) => l.account === payeeAccount(SPLIT)))).to.equal(0);
  });
});
