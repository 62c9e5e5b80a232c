import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { Wallet } from "ethers";
import { network } from "hardhat";
import type { JsonRpcServer } from "hardhat/types/network";
import { BUNDLE_PATHS } from "../../lib/evidence/manifest.ts";
import { buildBundle } from "../../server/evidence/build-bundle.ts";
import { main } from "../../bin/rights-ledger.ts";
import {
  deployEvidenceChain,
  directInput,
  registerFile,
  replaceText,
  rezip,
  sampleFile,
  unzip,
} from "../helpers/evidence.ts";
import { startTestTsa, type TestTsa } from "../helpers/tsa.ts";

const CLI = fileURLToPath(new URL("../../bin/rights-ledger.js", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

async function runInProcess(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

const lines = (text: string, status: string) => text.split("\n").filter((l) => l.startsWith(`${status}  `));

describe("rights-ledger verify (CLI)", function () {
  const platform = Wallet.createRandom();
  let server: JsonRpcServer;
  let rpcUrl: string;
  let tsa: TestTsa;
  let dir: string;
  let bundlePath: string;
  let tamperedPath: string;
  let originalPath: string;

  before(async function () {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    rpcUrl = `http://${address}:${port}`;
    const { ethers } = await network.create({ network: "localhost", override: { url: rpcUrl } });
    const chain = await deployEvidenceChain(ethers);
    const reg = await registerFile(chain, sampleFile("cli"));
    tsa = await startTestTsa();
    const zip = await buildBundle({ ...directInput(chain, reg, platform), tsaUrl: tsa.url });
    dir = await mkdtemp(path.join(tmpdir(), "rl-cli-"));
    bundlePath = path.join(dir, "bundle.zip");
    tamperedPath = path.join(dir, "tampered.zip");
    originalPath = path.join(dir, "harbour.png");
    await writeFile(bundlePath, zip);
    await writeFile(originalPath, reg.bytes);
    const files = await unzip(zip);
    files.set(
      BUNDLE_PATHS.manifest,
      replaceText(files.get(BUNDLE_PATHS.manifest)!, "without a license", "without a licensf"),
    );
    await writeFile(tamperedPath, await rezip(files));
  });

  after(async function () {
    await tsa?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("passes a good bundle end to end over JSON-RPC: one PASS line per check and exit status 0", async function () {
    const run = await runCli([
      "verify",
      bundlePath,
      "--rpc",
      rpcUrl,
      "--confirmations",
      "1",
      "--file",
      originalPath,
      "--ca",
      tsa.caPath,
      "--signer",
      platform.address,
    ]);
    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    expect(lines(run.stdout, "FAIL")).to.deep.equal([]);
    expect(lines(run.stdout, "SKIP")).to.deep.equal([]);
    const passed = lines(run.stdout, "PASS").map((l) => l.slice(6).split(/\s{2,}/)[0]);
    expect(passed).to.deep.equal([
      "manifest",
      "bundle contents",
      "signature",
      "timestamp",
      "timestamp chain",
      "file chain/receipt.json",
      "file chain/block-header.json",
      "file original/harbour_at_dusk.png",
      "file report.pdf",
      "original file",
      "block header",
      "receipt",
      "registration event",
      "block on chain",
      "registry contract",
      "registration on chain",
    ]);
    expect(run.stdout.trim().split("\n").pop()).to.equal("PASS: 16 checks passed");
  });

  it("fails a tampered bundle with exit status 1 and names the failing checks", async function () {
    const run = await runCli(["verify", tamperedPath, "--rpc", rpcUrl, "--confirmations", "1"]);
    expect(run.code).to.equal(1);
    expect(lines(run.stdout, "FAIL").map((l) => l.slice(6).split(/\s{2,}/)[0])).to.deep.equal([
      "signature",
      "timestamp",
    ]);
    expect(run.stdout.trim().split("\n").pop()).to.equal(
      "FAIL: 2 of 16 checks failed (signature, timestamp), 1 not checked",
    );
  });

  it("fails the canonical block check when the node has too few confirmations", async function () {
    const run = await runInProcess(["verify", bundlePath, "--rpc", rpcUrl]);
    expect(run.code).to.equal(1);
    expect(lines(run.stdout, "FAIL")[0]).to.match(
      /^FAIL {2}block on chain +block \d+ is canonical but has \d+ confirmations, fewer than 12$/,
    );
  });

  it("reports checks it could not make as SKIP, without failing", async function () {
    const run = await runInProcess(["verify", bundlePath]);
    expect(run.code).to.equal(0);
    expect(lines(run.stdout, "SKIP").map((l) => l.slice(6).split(/\s{2,}/)[0])).to.deep.equal([
      "timestamp chain",
      "block on chain",
      "registry contract",
      "registration on chain",
    ]);
    expect(run.stdout.trim().split("\n").pop()).to.equal("PASS: 12 checks passed, 4 not checked");
  });

  it("prints the usage and exits 0 with --help", async function () {
    const run = await runInProcess(["--help"]);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: rights-ledger verify <bundle.zip>/);
  });

  for (const [what, args, message] of [
    ["no command", [], "missing command"],
    ["an unknown command", ["check", "x.zip"], 'unknown command "check"'],
    ["no bundle", ["verify"], "missing <bundle.zip>"],
    ["an unknown option", ["verify", "x.zip", "--fast"], "Unknown option '--fast'"],
    [
      "a bad confirmation count",
      ["verify", "x.zip", "--confirmations", "some"],
      "--confirmations must be a whole number",
    ],
    ["a bad signer address", ["verify", "x.zip", "--signer", "platform"], "--signer must be an 0x address"],
    [
      "a bundle that cannot be read",
      ["verify", "/nonexistent/bundle.zip"],
      "cannot read bundle /nonexistent/bundle.zip: ENOENT",
    ],
  ] as const) {
    it(`exits 2 with the usage on ${what}`, async function () {
      const run = await runInProcess([...args]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.contain(`rights-ledger: ${message}`);
      expect(run.stderr).to.contain("Usage: rights-ledger verify");
      expect(run.stdout).to.equal("");
    });
  }
});
