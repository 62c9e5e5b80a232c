import { getAddress, hexlify, toQuantity, toUtf8Bytes, type Eip1193Provider } from "ethers";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Nonce, Session, VerifySiweRequest } from "../../lib/api/auth.ts";
import type { DevConfig } from "../../lib/api/dev.ts";
import { api, ApiError, setSessionToken, type TypedDataPayload } from "./api.ts";

declare global {
  interface Window {
    ethereum?: Eip1193Provider & {
      on?(event: string, listener: (...args: unknown[]) => void): void;
      removeListener?(event: string, listener: (...args: unknown[]) => void): void;
    };
  }
}

export type WalletKind = "injected" | "dev";

/** A transaction request as the API's tx-request routes answer it. */
export interface TxRequest {
  to: string;
  data: string;
  value?: string;
}

/** A log of a mined transaction (EIP-1193 `eth_getTransactionReceipt`). */
export interface TxLog {
  address: string;
  topics: string[];
  data: string;
}

interface Connected {
  kind: WalletKind;
  address: string;
  chainId: number;
  eip1193: Eip1193Provider;
}

export interface Wallet {
  address: string | null;
  kind: WalletKind | null;
  chainId: number | null;
  session: Session | null;
  /** Dev accounts when the API runs in development or test; null in production. */
  dev: DevConfig | null;
  /** The platform's chain; a browser wallet on another chain must switch before it signs. */
  expectedChainId: number | null;
  switchChain(): Promise<void>;
  hasInjected: boolean;
  busy: boolean;
  connectInjected(): Promise<void>;
  connectDev(index: number): Promise<void>;
  disconnect(): void;
  signIn(): Promise<Session>;
  signTypedData(payload: TypedDataPayload): Promise<string>;
  /** Sends a transaction and resolves with its hash once it is mined. */
  sendTransaction(tx: TxRequest): Promise<string>;
  /** The logs of a mined transaction, as the wallet's node has them. */
  transactionLogs(hash: string): Promise<TxLog[]>;
}

const WalletContext = createContext<Wallet | null>(null);
const STORED = "rl.wallet";

/** An EIP-1193 provider that signs with one of the development chain's unlocked accounts, via the API. */
function devProvider(address: string): Eip1193Provider {
  let id = 0;
  return {
    async request({ method, params }) {
      if (method === "eth_accounts" || method === "eth_requestAccounts") return [address];
      const response = await api<{
        result?: unknown;
        error?: { code: number; message: string; data?: unknown };
      }>("/v1/dev/rpc", { json: { jsonrpc: "2.0", id: ++id, method, params: params ?? [] } });
      if (response.error) {
        throw Object.assign(new Error(response.error.message), response.error);
      }
      return response.result;
    },
  };
}

const DOMAIN_FIELDS = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
  { name: "salt", type: "bytes32" },
];

/** Wallets hash the domain with the `EIP712Domain` type they are given: list the fields present. */
function withDomainType(payload: TypedDataPayload): TypedDataPayload {
  if (payload.types.EIP712Domain) return payload;
  const EIP712Domain = DOMAIN_FIELDS.filter((field) => payload.domain[field.name] !== undefined);
  return { ...payload, types: { EIP712Domain, ...payload.types } };
}

export function WalletProvider({ children }: { children: ReactNode }) {
  const [connected, setConnected] = useState<Connected | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [dev, setDev] = useState<DevConfig | null>(null);
  const [busy, setBusy] = useState(false);
  const hasInjected = typeof window !== "undefined" && Boolean(window.ethereum);

  const [expectedChainId, setExpectedChainId] = useState<number | null>(null);

  useEffect(() => {
    api<DevConfig>("/v1/dev/config")
      .then(setDev)
      .catch(() => setDev(null));
    api<{ chainId: number }>("/v1/chain")
      .then((chain) => setExpectedChainId(chain.chainId))
      .catch(() => setExpectedChainId(null));
  }, []);

  const adopt = useCallback((next: Connected | null) => {
    setConnected(next);
    setSession(null);
    setSessionToken(null);
    if (next) sessionStorage.setItem(STORED, JSON.stringify({ kind: next.kind, address: next.address }));
    else sessionStorage.removeItem(STORED);
  }, []);

  const connectDev = useCallback(
    async (index: number) => {
      const account = dev?.accounts.find((a) => a.index === index);
      if (!dev || !account) throw new Error("That development account is not available");
      adopt({
        kind: "dev",
        address: account.address,
        chainId: dev.chainId,
        eip1193: devProvider(account.address),
      });
    },
    [dev, adopt],
  );

  const connectInjected = useCallback(async () => {
    const injected = window.ethereum;
    if (!injected) throw new Error("No browser wallet found. Install one, or use a development account.");
    setBusy(true);
    try {
      const accounts = (await injected.request({ method: "eth_requestAccounts" })) as string[];
      const chainId = Number(await injected.request({ method: "eth_chainId" }));
      if (!accounts[0]) throw new Error("The wallet shared no account");
      adopt({ kind: "injected", address: getAddress(accounts[0]), chainId, eip1193: injected });
    } finally {
      setBusy(false);
    }
  }, [adopt]);

  // Restore the last connection of this tab; injected wallets only if they still share the account.
  useEffect(() => {
    const stored = sessionStorage.getItem(STORED);
    if (!stored || connected) return;
    const { kind, address } = JSON.parse(stored) as { kind: WalletKind; address: string };
    if (kind === "dev" && dev) {
      const account = dev.accounts.find((a) => a.address === address);
      if (account) void connectDev(account.index);
    } else if (kind === "injected" && window.ethereum) {
      void (window.ethereum.request({ method: "eth_accounts" }) as Promise<string[]>).then(
        async (accounts) => {
          if (accounts[0] && getAddress(accounts[0]) === address) {
            const chainId = Number(await window.ethereum!.request({ method: "eth_chainId" }));
            adopt({ kind, address, chainId, eip1193: window.ethereum! });
          }
        },
      );
    }
  }, [dev, connected, connectDev, adopt]);

  // An injected wallet may switch account or chain at any time.
  useEffect(() => {
    const injected = window.ethereum;
    if (connected?.kind !== "injected" || !injected?.on) return;
    const onAccounts = (...args: unknown[]) => {
      const accounts = args[0] as string[];
      adopt(accounts[0] ? { ...connected, address: getAddress(accounts[0]) } : null);
    };
    const onChain = (...args: unknown[]) => adopt({ ...connected, chainId: Number(args[0]) });
    injected.on("accountsChanged", onAccounts);
    injected.on("chainChanged", onChain);
    return () => {
      injected.removeListener?.("accountsChanged", onAccounts);
      injected.removeListener?.("chainChanged", onChain);
    };
  }, [connected, adopt]);

  const signIn = useCallback(async () => {
    if (!connected) throw new Error("Connect a wallet first");
    setBusy(true);
    try {
      const { nonce } = await api<Nonce>("/v1/auth/nonce", { method: "POST" });
      const message = siweMessage({
        domain: window.location.host,
        address: connected.address,
        uri: window.location.origin,
        chainId: connected.chainId,
        nonce,
      });
      const signature = (await connected.eip1193.request({
        method: "personal_sign",
        params: [hexlify(toUtf8Bytes(message)), connected.address.toLowerCase()],
      })) as string;
      const next = await api<Session>("/v1/auth/verify", {
        json: { message, signature } satisfies VerifySiweRequest,
      });
      setSessionToken(next.token);
      setSession(next);
      return next;
    } finally {
      setBusy(false);
    }
  }, [connected]);

  const switchChain = useCallback(async () => {
    if (!connected || expectedChainId === null) return;
    await connected.eip1193.request({
      method: "wallet_switchEthereumChain",
      params: [{ chainId: toQuantity(expectedChainId) }],
    });
  }, [connected, expectedChainId]);

  const signTypedData = useCallback(
    async (payload: TypedDataPayload) => {
      if (!connected) throw new Error("Connect a wallet first");
      return (await connected.eip1193.request({
        method: "eth_signTypedData_v4",
        params: [connected.address.toLowerCase(), JSON.stringify(withDomainType(payload))],
      })) as string;
    },
    [connected],
  );

  const sendTransaction = useCallback(
    async (tx: TxRequest) => {
      if (!connected) throw new Error("Connect a wallet first");
      const hash = (await connected.eip1193.request({
        method: "eth_sendTransaction",
        params: [
          { from: connected.address, to: tx.to, data: tx.data, value: toQuantity(BigInt(tx.value ?? "0")) },
        ],
      })) as string;
      const receipt = await waitForReceipt(connected.eip1193, hash);
      if (receipt.status !== "0x1") throw new ApiError(0, "TX_FAILED", "The transaction failed on chain");
      return hash;
    },
    [connected],
  );

  const transactionLogs = useCallback(
    async (hash: string) => {
      if (!connected) throw new Error("Connect a wallet first");
      return (await waitForReceipt(connected.eip1193, hash)).logs;
    },
    [connected],
  );

  const wallet = useMemo<Wallet>(
    () => ({
      address: connected?.address ?? null,
      kind: connected?.kind ?? null,
      chainId: connected?.chainId ?? null,
      session,
      dev,
      expectedChainId,
      switchChain,
      hasInjected,
      busy,
      connectInjected,
      connectDev,
      disconnect: () => adopt(null),
      signIn,
      signTypedData,
      sendTransaction,
      transactionLogs,
    }),
    [
      connected,
      session,
      dev,
      expectedChainId,
      switchChain,
      hasInjected,
      busy,
      connectInjected,
      connectDev,
      adopt,
      signIn,
      signTypedData,
      sendTransaction,
      transactionLogs,
    ],
  );

  return <WalletContext.Provider value={wallet}>{children}</WalletContext.Provider>;
}

/** An EIP-4361 (Sign-In with Ethereum) message. */
function siweMessage(m: {
  domain: string;
  address: string;
  uri: string;
  chainId: number;
  nonce: string;
}): string {
  return [
    `${m.domain} wants you to sign in with your Ethereum account:`,
    m.address,
    "",
    "Sign in to Rights Ledger.",
    "",
    `URI: ${m.uri}`,
    "Version: 1",
    `Chain ID: ${m.chainId}`,
    `Nonce: ${m.nonce}`,
    `Issued At: ${new Date().toISOString()}`,
  ].join("\n");
}

/** Resolves with the receipt once `hash` is mined, polling the wallet's node. */
async function waitForReceipt(
  eip1193: Eip1193Provider,
  hash: string,
): Promise<{ status: string; logs: TxLog[] }> {
  for (;;) {
    const receipt = (await eip1193.request({ method: "eth_getTransactionReceipt", params: [hash] })) as {
      status: string;
      logs: TxLog[];
    } | null;
    if (receipt) return receipt;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export function useWallet(): Wallet {
  const wallet = useContext(WalletContext);
  if (!wallet) throw new Error("useWallet outside WalletProvider");
  return wallet;
}

/** A session for the connected wallet, signing in when there is none yet. */
export async function ensureSession(wallet: Wallet): Promise<Session> {
  return wallet.session ?? wallet.signIn();
}
