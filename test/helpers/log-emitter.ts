import { AbiCoder, concat, zeroPadValue } from "ethers";

const OPCODES: Record<string, number> = {
  STOP: 0x00,
  ADD: 0x01,
  SUB: 0x03,
  EQ: 0x14,
  SHL: 0x1b,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  CALLDATACOPY: 0x37,
  POP: 0x50,
  JUMPI: 0x57,
  JUMPDEST: 0x5b,
  PUSH1: 0x60,
  DUP1: 0x80,
  SWAP1: 0x90,
  SWAP2: 0x91,
  LOG0: 0xa0,
  LOG1: 0xa1,
  LOG2: 0xa2,
  LOG3: 0xa3,
  LOG4: 0xa4,
};

/** Assembles the mnemonics above; `LABEL x` marks a jump target and `PUSHLABEL x` pushes its offset. */
function assemble(lines: string[]): string {
  const labels = new Map<string, number>();
  let offset = 0;
  for (const line of lines) {
    const [op, arg] = line.split(" ");
    if (op === "LABEL") labels.set(arg!, offset);
    offset += op === "LABEL" ? 1 : op === "PUSH1" || op === "PUSHLABEL" ? 2 : 1;
  }
  const bytes: number[] = [];
  for (const line of lines) {
    const [op, arg] = line.split(" ");
    if (op === "LABEL") bytes.push(OPCODES.JUMPDEST!);
    else if (op === "PUSHLABEL") bytes.push(OPCODES.PUSH1!, labels.get(arg!)!);
    else if (op === "PUSH1") bytes.push(OPCODES.PUSH1!, Number(arg));
    else bytes.push(OPCODES[op!]!);
  }
  return `0x${Buffer.from(bytes).toString("hex")}`;
}

/**
 * Runtime bytecode of a contract that emits one log per call: calldata is the topic count (a 32-byte
 * word), the topics, then the log data. Installed with `hardhat_setCode` at any address, it lets tests
 * produce exactly the logs they need — including malformed ones — from the addresses the indexer follows.
 */
export const LOG_EMITTER_CODE = assemble([
  // data = calldata[32 + n*32:], copied to memory 0; stack: [len, n]
  "PUSH1 0x00",
  "CALLDATALOAD",
  "DUP1",
  "PUSH1 0x05",
  "SHL",
  "PUSH1 0x20",
  "ADD",
  "DUP1",
  "CALLDATASIZE",
  "SUB",
  "DUP1",
  "SWAP2",
  "PUSH1 0x00",
  "CALLDATACOPY",
  "SWAP1",
  ...[1, 2, 3, 4].flatMap((n) => ["DUP1", `PUSH1 ${n}`, "EQ", `PUSHLABEL log${n}`, "JUMPI"]),
  "POP",
  "PUSH1 0x00",
  "LOG0",
  "STOP",
  ...[1, 2, 3, 4].flatMap((n) => [
    `LABEL log${n}`,
    "POP",
    // push topic n, …, topic 1 below the length, then the memory offset
    ...Array.from({ length: n }, (_, i) => [`PUSH1 ${(n - i) * 32}`, "CALLDATALOAD", "SWAP1"]).flat(),
    "PUSH1 0x00",
    `LOG${n}`,
    "STOP",
  ]),
]);

/** Calldata that makes the emitter log `topics` and `data`. */
export function emitterCalldata(topics: string[], data: string): string {
  return concat([
    AbiCoder.defaultAbiCoder().encode(["uint256"], [topics.length]),
    ...topics.map((t) => zeroPadValue(t, 32)),
    data,
  ]);
}
