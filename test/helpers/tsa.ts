import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A real RFC 3161 time-stamping authority made of `openssl ts -reply` behind a node:http endpoint. */
export interface TestTsa {
  url: string;
  dir: string;
  /** PEM of the test root CA (trust anchor). */
  caPath: string;
  /** PEM of the TSA's signing certificate. */
  tsaCertPath: string;
  /** A CA that did not issue the TSA's certificate. */
  otherCaPath: string;
  /** Number of time-stamp requests answered. */
  requests(): number;
  close(): Promise<void>;
}

export async function openssl(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run("openssl", args, { cwd });
  return stdout;
}

async function createCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "3650",
      "-subj",
      `/CN=${cn}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
}

/** Creates a test CA and a TSA certificate in a temp dir and serves `openssl ts -reply` on 127.0.0.1. */
export async function startTestTsa(): Promise<TestTsa> {
  const dir = await mkdtemp(path.join(tmpdir(), "rl-tsa-"));
  await createCa(dir, "ca", "Rights Ledger Test Root CA");
  await createCa(dir, "other-ca", "Unrelated Test CA");
  await writeFile(
    path.join(dir, "tsa-ext.cnf"),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,nonRepudiation",
      "extendedKeyUsage=critical,timeStamping",
      "subjectKeyIdentifier=hash",
      "authorityKeyIdentifier=keyid",
    ].join("\n"),
  );
  await openssl(
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "tsa.key",
      "-out",
      "tsa.csr",
      "-subj",
      "/CN=Rights Ledger Test TSA",
    ],
    dir,
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      "tsa.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "tsa.pem",
      "-days",
      "365",
      "-extfile",
      "tsa-ext.cnf",
    ],
    dir,
  );
  await writeFile(path.join(dir, "tsaserial"), "01\n");
  await writeFile(
    path.join(dir, "ts.cnf"),
    [
      "[ tsa ]",
      "default_tsa = tsa_config",
      "[ tsa_config ]",
      `serial = ${path.join(dir, "tsaserial")}`,
      "signer_digest = sha256",
      "default_policy = 1.3.6.1.4.1.99999.1",
      "digests = sha256, sha384, sha512",
      "accuracy = secs:1",
      "ordering = yes",
      "tsa_name = yes",
      "ess_cert_id_chain = no",
      "ess_cert_id_alg = sha256",
    ].join("\n"),
  );

  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const n = ++count;
      const query = path.join(dir, `req-${n}.tsq`);
      const reply = path.join(dir, `resp-${n}.tsr`);
      writeFile(query, Buffer.concat(chunks))
        .then(() =>
          openssl(
            [
              "ts",
              "-reply",
              "-config",
              "ts.cnf",
              "-queryfile",
              query,
              "-signer",
              "tsa.pem",
              "-inkey",
              "tsa.key",
              "-chain",
              "ca.pem",
              "-out",
              reply,
            ],
            dir,
          ),
        )
        .then(() => readFile(reply))
        .then((body) => {
          res.writeHead(200, { "content-type": "application/timestamp-reply" });
          res.end(body);
        })
        .catch((err: Error) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(err.message);
        });
    });
  });
  // Callers minutes apart reuse their kept-alive connection; with node's 5 s default the server
  // could close it just as a request went out on it, which the caller saw as ECONNRESET.
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    dir,
    caPath: path.join(dir, "ca.pem"),
    tsaCertPath: path.join(dir, "tsa.pem"),
    otherCaPath: path.join(dir, "other-ca.pem"),
    requests: () => count,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
