import { expect } from "chai";
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
    await api.stop();
    await stack.stop();
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

  it("stops every process on SIGTERM and exits cleanly", async () => {
    const pids = api.lines.filter(listening).map(pidOf);
    expect(await api.stop()).to.equal(0);
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
