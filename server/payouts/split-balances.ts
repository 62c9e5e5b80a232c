import type { Provider } from "ethers";
import { IERC20Metadata__factory, IRevenueSplit__factory } from "../../types/typechain/index.ts";

const NATIVE = "0x0000000000000000000000000000000000000000";
const splitInterface = IRevenueSplit__factory.createInterface();
const tokenInterface = IERC20Metadata__factory.createInterface();

/** What to read of one split: what it received in each of `tokens`, and what each of `accounts` can release. */
export interface SplitQuery {
  split: string;
  tokens: string[];
  accounts: string[];
}

export interface SplitReadings {
  /** By `${split}|${token}`. */
  received: Map<string, bigint>;
  /** By `${split}|${token}|${account}`. */
  releasable: Map<string, bigint>;
}

/**
 * Reads revenue splits' balances from the chain, every call of a request issued in the same tick so
 * the provider sends them as one JSON-RPC batch; token decimals are read once per process.
 */
export class SplitBalances {
  readonly #decimals = new Map<string, Promise<number | null>>();

  constructor(private readonly provider: Provider) {}

  async #call(to: string, data: string): Promise<string> {
    return this.provider.call({ to, data });
  }

  /** `totalReceived` and `releasable` for every query, at the chain's latest block. */
  async read(queries: SplitQuery[]): Promise<SplitReadings> {
    const calls: { key: string; kind: "received" | "releasable"; answer: Promise<string> }[] = [];
    for (const { split, tokens, accounts } of queries) {
      for (const token of tokens) {
        calls.push({
          key: `${split}|${token}`,
          kind: "received",
          answer: this.#call(split, splitInterface.encodeFunctionData("totalReceived", [token])),
        });
        for (const account of accounts) {
          calls.push({
            key: `${split}|${token}|${account}`,
            kind: "releasable",
            answer: this.#call(split, splitInterface.encodeFunctionData("releasable", [token, account])),
          });
        }
      }
    }
    const answers = await Promise.all(calls.map((c) => c.answer));
    const readings: SplitReadings = { received: new Map(), releasable: new Map() };
    calls.forEach((call, i) => {
      const [value] =
        call.kind === "received"
          ? splitInterface.decodeFunctionResult("totalReceived", answers[i]!)
          : splitInterface.decodeFunctionResult("releasable", answers[i]!);
      readings[call.kind].set(call.key, value as bigint);
    });
    return readings;
  }

  /** Each token's decimals: 18 for the native currency, null for a token that does not say. */
  async decimals(tokens: string[]): Promise<Map<string, number | null>> {
    for (const token of tokens) {
      if (token === NATIVE || this.#decimals.has(token)) continue;
      this.#decimals.set(
        token,
        this.#call(token, tokenInterface.encodeFunctionData("decimals"))
          .then((answer) => Number(tokenInterface.decodeFunctionResult("decimals", answer)[0]))
          .catch(() => {
            // A token without decimals(), or a call that failed: asked again next time.
            this.#decimals.delete(token);
            return null;
          }),
      );
    }
    const entries = await Promise.all(
      tokens.map(async (token) => [token, token === NATIVE ? 18 : await this.#decimals.get(token)!] as const),
    );
    return new Map(entries);
  }
}
