import { expect } from "chai";
import fc from "fast-check";
import request from "supertest";
import { arbitraryOf, wrongTypeOf, type JsonSchema } from "../helpers/schema-arbitrary.ts";
import { startTestStack, UNLIMITED_RATES, type TestStack } from "../helpers/stack.ts";

/** Requests generated from the schemas per operation (the mutations come on top). */
const GENERATED_PER_OPERATION = 12;
const SEED = Number(process.env.HOSTILE_SEED ?? 20261202);

interface Parameter {
  name: string;
  in: "path" | "query";
  required: boolean;
  schema: JsonSchema;
}

interface Operation {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  parameters: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  security?: Record<string, unknown>[];
}

interface Hostile {
  label: string;
  path: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Invalid by construction: the API must refuse it with a 4xx. */
  refused: boolean;
}

const stringify = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
const EVIL_SEGMENTS = [
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "'%20OR%20'1'%3D'1",
  "9".repeat(120),
  "-1",
  "1.5",
  "0x",
  "%F0%9F%92%A9",
];
const WRONG_CONTENT: [string, string][] = [
  ["text/plain", '{"a":1}'],
  ["application/xml", "<order><id>1</id></order>"],
  ["application/x-www-form-urlencoded", "a=1&b=2"],
  ["multipart/form-data", "--x\r\n"],
];
const TRUNCATED_MULTIPART =
  '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\nhalf a fi';

/** Every hostile request of one operation: generated from its schemas, then mutated. */
function hostileRequests(op: Operation, seed: number): Hostile[] {
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const queryParams = op.parameters.filter((p) => p.in === "query");
  const [contentType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
  const bodySchema = media?.schema;
  const json = contentType === "application/json";
  const required = bodySchema?.required ?? [];
  const valuesOf = (params: Parameter[]) =>
    fc.record(Object.fromEntries(params.map((p) => [p.name, arbitraryOf(p.schema).map(stringify)])));
  const samples = fc.sample(
    fc.record({
      path: valuesOf(pathParams),
      query: valuesOf(queryParams),
      body: bodySchema && json ? arbitraryOf(bodySchema) : fc.constant(undefined),
    }),
    { numRuns: GENERATED_PER_OPERATION, seed },
  ) as { path: Record<string, string>; query: Record<string, string>; body: unknown }[];
  const base = samples[0]!;
  const jsonHeaders = { "content-type": "application/json" };
  const list: Hostile[] = samples.map((s, i) => ({
    label: `generated #${i}`,
    path: s.path,
    query: s.query,
    headers: json ? jsonHeaders : {},
    body: json ? JSON.stringify(s.body) : undefined,
    refused: false,
  }));
  const withBody = (label: string, body: string | Buffer, refused: boolean, headers = jsonHeaders) =>
    list.push({ label, path: base.path, query: base.query, headers, body, refused });

  for (const segment of EVIL_SEGMENTS) {
    for (const p of pathParams) {
      list.push({
        label: `path ${p.name}=${segment.slice(0, 20)}`,
        path: { ...base.path, [p.name]: segment },
        query: base.query,
        headers: json ? jsonHeaders : {},
        body: json ? JSON.stringify(base.body) : undefined,
        refused: true,
      });
    }
  }
  for (const p of queryParams) {
    // Long, but under Node's 16 KiB header limit, so the request reaches the API.
    for (const wrong of [...wrongTypeOf(p.schema), "x".repeat(8_000), "-1e400"]) {
      list.push({
        label: `query ${p.name}=${stringify(wrong).slice(0, 20)}`,
        path: base.path,
        query: { ...base.query, [p.name]: stringify(wrong) },
        headers: {},
        refused: false,
      });
    }
  }
  if (op.security) {
    for (const [name, value] of [
      ["authorization", "Bearer not.a.token"],
      ["authorization", "Basic YWRtaW46YWRtaW4="],
      ["x-api-key", `rlk_${"0".repeat(16)}_${"A".repeat(43)}`],
    ] as const) {
      list.push({
        label: `forged ${name}`,
        path: base.path,
        query: base.query,
        headers: { ...(json ? jsonHeaders : {}), [name]: value },
        body: json ? JSON.stringify(base.body) : undefined,
        refused: true,
      });
    }
  }
  if (bodySchema && json) {
    const object = (base.body ?? {}) as Record<string, unknown>;
    const strict = required.length > 0;
    withBody("missing every field", "{}", strict);
    for (const name of required) {
      const { [name]: _dropped, ...rest } = object;
      withBody(`missing ${name}`, JSON.stringify(rest), true);
    }
    for (const [name, property] of Object.entries(bodySchema.properties ?? {})) {
      if (!property.type && !property.anyOf && !property.enum) continue;
      for (const wrong of wrongTypeOf(property)) {
        withBody(
          `${name} as ${stringify(wrong).slice(0, 16)}`,
          JSON.stringify({ ...object, [name]: wrong }),
          true,
        );
      }
      withBody(`${name} huge`, JSON.stringify({ ...object, [name]: "x".repeat(300_000) }), true);
      const { [name]: _replaced, ...others } = object;
      withBody(
        `${name} 1e400`,
        JSON.stringify(others).replace(/^\{/, `{"${name}":1e400,`).replace(",}", "}"),
        true,
      );
    }
    withBody(
      "extra fields",
      JSON.stringify({
        ...object,
        unexpected: "field",
        constructor: { prototype: { isAdmin: true } },
      }).replace(/^\{/, '{"__proto__":{"isAdmin":true},'),
      false,
    );
    for (const notObject of ["[]", '"text"', "null", "12"]) withBody(`body ${notObject}`, notObject, strict);
    const text = JSON.stringify(base.body ?? { a: 1 });
    withBody("truncated", text.slice(0, Math.max(1, Math.floor(text.length / 2))), true);
    withBody("deeply nested", "[".repeat(5000) + "]".repeat(5000), true);
    for (const [type, body] of WRONG_CONTENT) withBody(`as ${type}`, body, strict, { "content-type": type });
  } else if (contentType) {
    withBody("JSON instead of multipart", '{"file":"x"}', true);
    withBody("multipart without boundary", "--x\r\n", true, { "content-type": contentType });
    withBody("truncated multipart", TRUNCATED_MULTIPART, true, {
      "content-type": `${contentType}; boundary=b0undary`,
    });
  } else if (op.method !== "get") {
    withBody("truncated JSON to a route without a body", '{"a":', true);
  }
  return list;
}

describe("hostile client: every route of the OpenAPI document under bad and abusive input", function () {
  this.timeout(180_000);
  let stack: TestStack;

  before(async () => {
    // No indexer or workers: nothing but these requests could change the database.
    stack = await startTestStack("hostile", { workers: false, indexer: false, env: { ...UNLIMITED_RATES } });
  });
  after(async () => stack?.stop());

  /** A digest of every table's rows. */
  async function databaseDigest(): Promise<Record<string, string>> {
    const { rows: tables } = await stack.db.pool.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    const digest: Record<string, string> = {};
    for (const { name } of tables) {
      const { rows } = await stack.db.pool.query<{ md5: string }>(
        `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS md5 FROM "${name}" t`,
      );
      digest[name] = rows[0]!.md5;
    }
    return digest;
  }

  it("answers every hostile request with a 4xx in the error shape (or a harmless answer), never a 5xx, and changes nothing", async () => {
    const doc = (await request(stack.app).get("/openapi.json").expect(200)).body as {
      paths: Record<string, Record<string, Omit<Operation, "method" | "path">>>;
    };
    const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ ...op, method: method as Operation["method"], path })),
    );
    expect(operations.length).to.be.greaterThan(30);
    const before = await databaseDigest();
    const problems: string[] = [];
    let sent = 0;
    for (const [i, op] of operations.entries()) {
      const hostile = hostileRequests(op, SEED + i);
      for (let at = 0; at < hostile.length; at += 16) {
        await Promise.all(
          hostile.slice(at, at + 16).map(async (h) => {
            const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
              h.label.startsWith("path ") ? (h.path[name] ?? "") : encodeURIComponent(h.path[name] ?? ""),
            );
            let test = request(stack.app)[op.method](url).query(h.query);
            for (const [name, value] of Object.entries(h.headers)) test = test.set(name, value);
            const res = await (h.body !== undefined ? test.send(h.body) : test);
            sent += 1;
            const where = `${op.method.toUpperCase()} ${op.path} (${h.label}) → ${res.status}`;
            if (res.status >= 500) problems.push(`${where}: ${res.text.slice(0, 200)}`);
            else if (h.refused && (res.status < 400 || res.status >= 500))
              problems.push(`${where}: not refused`);
            if (res.status >= 400) {
              const error = (res.body as { error?: { code?: unknown; message?: unknown } }).error;
              if (
                typeof error?.code !== "string" ||
                typeof error.message !== "string" ||
                !("details" in error)
              )
                problems.push(`${where}: not in the error shape: ${res.text.slice(0, 200)}`);
            }
          }),
        );
      }
    }
    console.log(`      hostile requests sent: ${sent} to ${operations.length} operations`);
    expect(problems, problems.slice(0, 20).join("\n")).to.deep.equal([]);
    expect(await databaseDigest()).to.deep.equal(before);
  });
});
