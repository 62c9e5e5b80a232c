import { expect } from "chai";
import { randomBytes } from "node:crypto";
import request from "supertest";
import { clientKey } from "../../server/http/client-address.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const randomIpv4 = () => [...randomBytes(4)].join(".");

/** Waits out the last seconds of a one-minute window, so five requests fall into one window. */
async function awayFromWindowEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
}

describe("client address: the key rate limits count by", () => {
  it("keeps IPv4 addresses and unwraps IPv4-mapped IPv6 ones", () => {
    expect(clientKey("203.0.113.7")).to.equal("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).to.equal("203.0.113.7");
  });

  it("counts an IPv6 client by its /64, whatever the interface part", () => {
    const key = clientKey("2001:db8:1:2::1");
    expect(key).to.equal("2001:db8:1:2::/64");
    expect(clientKey("2001:0db8:0001:0002:ffff:eeee:dddd:cccc")).to.equal(key);
    expect(clientKey("2001:db8:1:2:aaaa::")).to.equal(key);
    expect(clientKey("2001:db8:1:3::1")).to.not.equal(key);
    expect(clientKey("::1")).to.equal("0:0:0:0::/64");
  });
});

describe("rate limits behind trusted proxies", function () {
  for (const [name, trustProxy] of [
    ["a hop count", "1"],
    ["a CIDR list", "127.0.0.0/8, ::1/128"],
  ] as const) {
    describe(`with TRUST_PROXY as ${name}`, () => {
      let stack: TestStack;
      before(async () => {
        stack = await startTestStack(`proxy_${name.replace(/\W/g, "_")}`, {
          workers: false,
          env: { TRUST_PROXY: trustProxy, RATE_LIMIT_PER_MINUTE: "3" },
        });
      });
      after(async () => stack.stop());

      it("limits a client that sends a random left-most X-Forwarded-For with every request", async () => {
        await awayFromWindowEdge();
        const statuses = [];
        for (let i = 0; i < 5; i++) {
          const res = await request(stack.app)
            .get("/v1/works")
            .set("X-Forwarded-For", `${randomIpv4()}, 198.51.100.23`);
          statuses.push(res.status);
        }
        expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);
      });

      it("limits an IPv6 client that changes its address within its /64", async () => {
        await awayFromWindowEdge();
        const statuses = [];
        for (let i = 0; i < 5; i++) {
          const res = await request(stack.app)
            .get("/v1/works")
            .set("X-Forwarded-For", `2001:db8:77:1:${randomBytes(2).toString("hex")}::${i + 1}`);
          statuses.push(res.status);
        }
        expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);
        const neighbour = await request(stack.app)
          .get("/v1/works")
          .set("X-Forwarded-For", "2001:db8:77:2::1");
        expect(neighbour.status).to.equal(200);
      });
    });
  }
});
