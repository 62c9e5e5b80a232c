import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { OrderSecrets } from "../../server/auth/order-secrets.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const pidOf = (line: string) => (JSON.parse(line) as { pid: number }).pid;
const listening = (line: string) => line.includes('"msg":"API listening"');

describe("npm run api with API_WORKERS", function () {
  this.timeout(120_000);
  let stack: TestStack;
  let api: ServerProcess;

  before(async () => {
    stack = await startTestStack("main_api", { workers: false });
    api = await startServerProcess(stack, { part: "api", processes: 2, env: { LOG_LEVEL: "info" } });
  });
  after(async () => {
    await api?.stop();
    await stack?.stop();
  });

  it("serves one port from two processes and replaces one that dies", async () => {
    const started = () => api.lines.filter(listening).map(pidOf);
    while (started().length < 2) await api.nextLine(listening);
    const [first, second] = started();
    expect(first).to.not.equal(second);
    for (let i = 0; i < 10; i++) expect((await fetch(`${api.url}/healthz`)).status).to.equal(200);

    const replacement = api.nextLine(listening);
    process.kill(first!, "SIGKILL");
    const third = pidOf(await replacement);
    expect([first, second]).to.not.include(third);
    expect((await fetch(`${api.url}/v1/works`)).status).to.equal(200);
  });

  it("ends open event streams and stops every process within 10 s on SIGTERM, exiting cleanly", async () => {
    const orderId = randomUUID();
    await stack.db.pool.query(`INSERT INTO fiat_prices (offer_id, amount, currency) VALUES (1, 1200, 'usd')`);
    await stack.db.pool.query(
      `INSERT INTO orders (id, offer_id, wallet, amount, currency, status, ip, reserved_until, payable_until)
       VALUES ($1, 1, '0x00000000000000000000000000000000000000aa', 1200, 'usd', 'created', '10.0.0.1',
               now() + interval '5 minutes', now() + interval '30 minutes')`,
      [orderId],
    );
    await stack.db.pool.query(`INSERT INTO order_events (order_id, status) VALUES ($1, 'created')`, [
      orderId,
    ]);
    // A checkout page following its order: a stream that never ends by itself.
    const secret = new OrderSecrets(stack.config.auth.sessionSecret).of(orderId);
    const stream = (await fetch(`${api.url}/v1/orders/${orderId}/events?secret=${secret}`)).body!.getReader();
    expect(new TextDecoder().decode((await stream.read()).value)).to.contain("event: status");
    const pids = api.lines.filter(listening).map(pidOf);
    const stopping = Date.now();
    expect(await api.stop()).to.equal(0);
    expect(Date.now() - stopping).to.be.below(10_000);
    for (;;) if ((await stream.read()).done) break;
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).to.deep.equal([]);
  });
});
