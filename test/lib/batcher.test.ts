import { expect } from "chai";
import { Batcher } from "../../lib/batcher.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("batcher", function () {
  it("runs what callers ask meanwhile as one group and answers each caller with its own output", async () => {
    const groups: number[][] = [];
    const batcher = new Batcher<number, number>(10, async (inputs) => {
      groups.push(inputs);
      await tick();
      return inputs.map((n) => n * 10);
    });
    const outputs = await Promise.all([1, 2, 3, 4].map((n) => batcher.call(n)));
    expect(outputs).to.deep.equal([10, 20, 30, 40]);
    expect(groups).to.deep.equal([[1], [2, 3, 4]]);
  });

  it("runs a failed group again input by input, so only the bad input fails", async () => {
    const groups: number[][] = [];
    const batcher = new Batcher<number, number>(10, async (inputs) => {
      groups.push(inputs);
      await tick();
      if (inputs.includes(13)) throw new Error("unlucky");
      return inputs;
    });
    const first = batcher.call(0);
    const results = await Promise.allSettled([11, 12, 13, 14].map((n) => batcher.call(n)));
    await first;
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((results[2] as PromiseRejectedResult).reason).to.match(/unlucky/);
    expect(groups.slice(1, 2)).to.deep.equal([[11, 12, 13, 14]]);
    expect(groups.slice(2).sort()).to.deep.equal([[11], [12], [13], [14]]);
  });

  it("never puts two inputs with one key in a group: the later waits for the next", async () => {
    const groups: string[][] = [];
    const batcher = new Batcher<string, string>(
      10,
      async (inputs) => {
        groups.push(inputs);
        await tick();
        return inputs;
      },
      (input) => input.split(":")[0]!,
    );
    await Promise.all(["warm", "a:1", "b:1", "a:2", "c:1", "a:3"].map((s) => batcher.call(s)));
    expect(groups).to.deep.equal([["warm"], ["a:1", "b:1", "c:1"], ["a:2"], ["a:3"]]);
  });
});
