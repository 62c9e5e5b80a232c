import { expect } from "chai";
import { EventFragment, hexlify, Interface, type ParamType } from "ethers";
import fc from "fast-check";
import { contractInterfaces, toJson } from "../../indexer/abi.ts";
import { compileEventDecoder } from "../../indexer/abi-decode.ts";

const hex = (length: number) =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((b) => hexlify(b));

/** Values of any ABI type the events use (and tuples, for the general path). */
function valueOf(type: ParamType): fc.Arbitrary<unknown> {
  if (type.isArray()) return fc.array(valueOf(type.arrayChildren), { maxLength: 4 });
  if (type.isTuple()) return fc.tuple(...type.components.map(valueOf));
  const base = type.baseType;
  if (base === "address") return hex(20);
  if (base === "bool") return fc.boolean();
  if (base === "string") return fc.string({ unit: "grapheme", maxLength: 40 });
  if (base === "bytes") return fc.uint8Array({ maxLength: 70 }).map((b) => hexlify(b));
  const fixed = /^bytes(\d+)$/.exec(base);
  if (fixed) return hex(Number(fixed[1]));
  const integer = /^(u?)int(\d*)$/.exec(base)!;
  const bits = BigInt(integer[2] || 256);
  return integer[1] === "u"
    ? fc.bigInt({ min: 0n, max: (1n << bits) - 1n })
    : fc.bigInt({ min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n });
}

function expectSameAsEthers(iface: Interface, fragment: EventFragment): void {
  const decode = compileEventDecoder(fragment);
  fc.assert(
    fc.property(fc.tuple(...fragment.inputs.map(valueOf)), (values) => {
      const { topics, data } = iface.encodeEventLog(fragment, values);
      const lowered = { topics: topics.map((t) => t.toLowerCase()), data: data.toLowerCase() };
      const reference = iface.decodeEventLog(fragment, data, topics);
      const expected = Object.fromEntries(
        fragment.inputs.map((input, i) => [input.name, toJson(input, reference[i])]),
      );
      expect(decode(lowered.topics, lowered.data).args).to.deep.equal(expected);
    }),
    { numRuns: 40 },
  );
}

describe("compiled event decoder", () => {
  const interfaces = contractInterfaces();
  for (const [kind, iface] of Object.entries(interfaces)) {
    it(`decodes every ${kind} event exactly as ethers does`, () => {
      iface.forEachEvent((fragment) => expectSameAsEthers(iface, fragment));
    });
  }

  it("falls back to ethers for tuples and nested arrays, with the same result", () => {
    const iface = new Interface([
      "event Nested((uint256 id, string name) item, uint8[][] grid, bytes32 indexed tag, string indexed label)",
    ]);
    expectSameAsEthers(iface, iface.getEvent("Nested")!);
  });

  it("rejects data too short for the event, a wrong topic count and an address with dirty upper bytes", () => {
    const iface = interfaces.LicenseToken;
    const fragment = iface.getEvent("RevenuePaid")!;
    const decode = compileEventDecoder(fragment);
    const { topics, data } = iface.encodeEventLog(fragment, [
      1,
      `0x${"11".repeat(20)}`,
      `0x${"22".repeat(20)}`,
      5,
      1,
      `0x${"33".repeat(20)}`,
      0,
    ]);
    expect(() => decode(topics, data.slice(0, 66))).to.throw("data shorter");
    expect(() => decode(topics.slice(0, 2), data)).to.throw("expected 4 topics");
    const dirty = `0x${"ff".repeat(12)}${"33".repeat(20)}`.padEnd(66, "0");
    const withDirtyReferrer = data.slice(0, 2 + 64 * 2) + dirty.slice(2) + data.slice(2 + 64 * 3);
    expect(() => decode(topics, withDirtyReferrer)).to.throw("dirty upper bytes");
  });
});
