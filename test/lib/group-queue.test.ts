import { expect } from "chai";
import { GroupQueue } from "../../lib/group-queue.ts";

describe("group queue", function () {
  it("hands over one group at a time, each with what arrived meanwhile, at most max", async () => {
    const groups: number[][] = [];
    let release: () => void = () => {};
    const queue = new GroupQueue<number>(3, async (group) => {
      groups.push(group);
      if (groups.length === 1) await new Promise<void>((r) => (release = r));
    });
    queue.push(1);
    for (let i = 2; i <= 6; i++) queue.push(i);
    expect(groups).to.deep.equal([[1]]);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(groups).to.deep.equal([[1], [2, 3, 4], [5, 6]]);
  });

  it("sends requeued items first, before what arrived after them", async () => {
    const groups: number[][] = [];
    let release: () => void = () => {};
    const queue = new GroupQueue<number>(10, async (group) => {
      groups.push(group);
      if (groups.length === 1) await new Promise<void>((r) => (release = r));
      if (groups.length === 2) {
        queue.push(5);
        queue.requeue(group.slice(1));
      }
    });
    for (let i = 1; i <= 4; i++) queue.push(i);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(groups).to.deep.equal([[1], [2, 3, 4], [3, 4, 5]]);
  });
});
