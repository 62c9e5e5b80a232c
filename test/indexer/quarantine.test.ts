import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type pg from "pg";
import type { Indexer } from "../../indexer/create-indexer.ts";
import { deployAll, type Deployed } from "../helpers/deployed.ts";
import {
  createChain,
  createIndexerEnv,
  metricValue,
  type IndexerEnv,
  type Request,
} from "../helpers/indexer.ts";
import { commitAndReveal, sha256Hex } from "../helpers/registry.ts";

const run = promisify(execFile);

describe("quarantine of events whose rows PostgreSQL refuses", () => {
  let env: IndexerEnv;
  let db: pg.Pool;
  let d: Deployed;
  let request: Request;
  let indexer: Indexer;

  const cids = async () =>
    (await db.query<{ cid: string }>("SELECT cid FROM works ORDER BY work_id")).rows.map((r) => r.cid);
  const quarantinedRows = async () =>
    (
      await db.query<{ block_number: string; event_name: string; reason: string; error_code: string }>(
        "SELECT block_number::text, event_name, reason, error_code FROM indexer_quarantine ORDER BY block_number",
      )
    ).rows;
  const register = async (name: string) => {
    const { revealTx } = await commitAndReveal(d.registry, d.creator, sha256Hex(name), {
      cid: name,
      metadataURI: `ipfs://${name}`,
    });
    return (await revealTx.wait())!.blockNumber;
  };
  /** `npm run quarantine` on this file's database. */
  const command = (...args: string[]) =>
    run(process.execPath, ["--import", "tsx", "scripts/quarantine.ts", ...args], {
      env: { PATH: process.env.PATH, DATABASE_URL: env.database.url },
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (err: { code: number; stdout: string }) => err,
    );

  before(async () => {
    env = await createIndexerEnv("quarantine");
    db = env.database.pool;
    const chain = await createChain();
    request = chain.request;
    d = await deployAll(chain.conn);
    indexer = env.indexer({ provider: chain.provider as HardhatEthersProvider, deployment: d.deployment });
    await indexer.ready();
    // A rule the schema did not foresee stands in for any row PostgreSQL refuses.
    await db.query("ALTER TABLE works ADD CONSTRAINT works_refused CHECK (cid NOT LIKE 'refuse%')");
  });

  after(async () => {
    await env.close();
  });

  it("commits the rest of the range and quarantines the refused event with its error and block", async () => {
    await register("before");
    const refusedBlock = await register("refuse me");
    await register("after");
    await indexer.syncToHead();
    expect(await cids()).to.deep.equal(["before", "after"]);
    expect(await quarantinedRows()).to.deep.equal([
      {
        block_number: String(refusedBlock),
        event_name: "WorkRegistered",
        reason: "refused",
        error_code: "23514",
      },
    ]);
    const raw = await db.query("SELECT 1 FROM chain_events WHERE block_number = $1", [refusedBlock]);
    expect(raw.rowCount).to.equal(0);
    expect(await metricValue(indexer, "indexer_quarantined_events")).to.equal(1);

    await register("later");
    await indexer.syncToHead();
    expect(await cids()).to.deep.equal(["before", "after", "later"]);
  });

  it("lists the quarantine for operators and exits 1 while anything is in it", async () => {
    const listed = await command();
    expect(listed.code).to.equal(1);
    expect(listed.stdout)
      .to.include("WorkRegistry.WorkRegistered")
      .and.include("refused")
      .and.include("23514");
    const json = JSON.parse((await command("--json")).stdout) as { event_name: string; data: string }[];
    expect(json.map((r) => r.event_name)).to.deep.equal(["WorkRegistered"]);
    expect(json[0]!.data).to.match(/^0x[0-9a-f]+$/);
  });

  it("keeps an event still refused when re-applied, and applies it once the cause is fixed", async () => {
    const still = await command("--retry");
    expect(still.code).to.equal(1);
    expect(still.stdout).to.include("0 re-applied, 1 still quarantined");
    await db.query("ALTER TABLE works DROP CONSTRAINT works_refused");
    const fixed = await command("--retry");
    expect(fixed.code, fixed.stdout).to.equal(0);
    expect(fixed.stdout).to.include("1 re-applied, 0 still quarantined");
    expect((await cids()).sort()).to.deep.equal(["after", "before", "later", "refuse me"]);
    expect(await quarantinedRows()).to.deep.equal([]);
    const raw = await db.query("SELECT event_name FROM chain_events WHERE args->>'cid' = 'refuse me'");
    expect(raw.rows).to.deep.equal([{ event_name: "WorkRegistered" }]);
  });

  it("removes quarantined events of blocks a reorg orphaned", async () => {
    await db.query("ALTER TABLE works ADD CONSTRAINT works_forked CHECK (cid NOT LIKE 'fork%')");
    const snapshot = (await request("evm_snapshot")) as string;
    await register("fork-only, refused");
    await indexer.syncToHead();
    expect(await quarantinedRows()).to.have.length(1);
    await request("evm_revert", [snapshot]);
    await register("on the new fork");
    await register("and one more");
    await indexer.syncToHead();
    expect(await quarantinedRows()).to.deep.equal([]);
    expect(await cids()).to.include.members(["on the new fork", "and one more"]);
    expect(await metricValue(indexer, "indexer_quarantined_events")).to.equal(0);
  });
});
