/**
 * The layers of the tree, read from the import graph of the code itself: what may import what, no
 * import loops, and no SQL of the API naming a table the indexer keeps for itself.
 */
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const LAYERS = ["lib", "indexer", "server", "web", "scripts", "bench"];
/** The indexer's bookkeeping, raw log and quarantine: readers use its views (chain_heads, event_blocks, quarantined_events). */
const INDEXER_INTERNAL_TABLES = [
  "indexer_state",
  "indexer_blocks",
  "indexer_undo",
  "chain_events",
  "indexer_quarantine",
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === "node_modules" ? [] : sourceFiles(full);
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [full] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

/** Each source file (relative to the root) with the files of the project it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const layer of LAYERS) {
    for (const file of sourceFiles(path.join(ROOT, layer))) {
      const text = readFileSync(file, "utf8");
      const targets = [...text.matchAll(IMPORT)]
        .map((m) => m[1] ?? m[2]!)
        .filter((spec) => spec.startsWith("."))
        .map((spec) => path.relative(ROOT, path.resolve(path.dirname(file), spec)));
      graph.set(path.relative(ROOT, file), targets);
    }
  }
  return graph;
}

const graph = importGraph();
const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));
const under = (file: string, folder: string) => file.startsWith(`${folder}/`);
/** Files holding SQL of a table group: the repositories, and the stores inside feature folders. */
const isStore = (f: string) =>
  under(f, "server/repositories") ||
  ((under(f, "server/payouts") ||
    under(f, "server/market") ||
    under(f, "server/codes") ||
    under(f, "server/promotions") ||
    under(f, "server/refunds")) &&
    f.endsWith("-store.ts")) ||
  [
    "server/orders/store.ts",
    "server/orders/indexed-mints.ts",
    "server/orders/webhook-events.ts",
    "server/orders/status.ts",
    "server/refunds/refund-status.ts",
  ].includes(f);
const isJob = (f: string) =>
  under(f, "server/jobs") ||
  under(f, "server/orders/jobs") ||
  under(f, "server/payouts/jobs") ||
  under(f, "server/refunds/jobs");
/** Business rules: the services, and the lifecycle code of feature folders that is neither store nor job. */
const isService = (f: string) =>
  under(f, "server/services") ||
  ((under(f, "server/orders") ||
    under(f, "server/payouts") ||
    under(f, "server/market") ||
    under(f, "server/codes") ||
    under(f, "server/promotions") ||
    under(f, "server/refunds")) &&
    !isStore(f) &&
    !isJob(f));
const show = (list: { from: string; to: string }[]) => list.map((e) => `${e.from} → ${e.to}`);

/** The import loops among `files`, each as the path that closes it. */
function loops(files: string[]): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

/** Names a file declares itself as a type or interface (not the ones it imports). */
function declaredTypes(text: string): string[] {
  return [
    ...text.matchAll(/^[ \t]*(?:export\s+)?(?:declare\s+)?(?:interface|type)\s+([A-Za-z_$][\w$]*)/gm),
  ].map((m) => m[1]!);
}

/** What the API's contract (lib/api) exports: schemas and the types inferred from them. */
const contractNames = new Set(
  [...graph.keys()]
    .filter((f) => under(f, "lib/api"))
    .flatMap((f) =>
      [
        ...readFileSync(path.join(ROOT, f), "utf8").matchAll(
          /^export\s+(?:const|function|type|interface|class)\s+([A-Za-z_$][\w$]*)/gm,
        ),
      ].map((m) => m[1]!),
    ),
);

describe("layering", () => {
  it("reads a graph of the whole tree", () => {
    expect(graph.size).to.be.greaterThan(100);
    expect(edges.length).to.be.greaterThan(300);
  });

  it("keeps lib free of application code", () => {
    expect(show(edges.filter((e) => under(e.from, "lib") && !under(e.to, "lib")))).to.deep.equal([]);
  });

  it("keeps the indexer and the API apart", () => {
    const across = edges.filter(
      (e) =>
        (under(e.from, "indexer") && (under(e.to, "server") || under(e.to, "web"))) ||
        (under(e.from, "server") && (under(e.to, "indexer") || under(e.to, "web"))),
    );
    expect(show(across)).to.deep.equal([]);
  });

  it("lets the web app import only itself and lib", () => {
    const outside = edges.filter((e) => under(e.from, "web") && !under(e.to, "web") && !under(e.to, "lib"));
    expect(show(outside)).to.deep.equal([]);
  });

  it("lets the web app declare no type of the API's contract: it imports them from lib/api", () => {
    expect([...contractNames]).to.include.members(["Work", "Offer", "Order", "workSchema"]);
    expect(
      declaredTypes("export interface Work {\n  type Offer = string;\nimport type { Order } from 'x';"),
    ).to.deep.equal(["Work", "Offer"]);
    const copies = [...graph.keys()]
      .filter((f) => under(f, "web/src"))
      .flatMap((f) =>
        declaredTypes(readFileSync(path.join(ROOT, f), "utf8"))
          .filter((name) => contractNames.has(name))
          .map((name) => `${f}: ${name}`),
      );
    expect(copies).to.deep.equal([]);
  });

  it("keeps repositories and stores below the HTTP layer", () => {
    const up = edges.filter(
      (e) => isStore(e.from) && (under(e.to, "server/routes") || under(e.to, "server/http")),
    );
    expect(show(up)).to.deep.equal([]);
  });

  it("keeps services below jobs and routes, and queues below both", () => {
    const up = edges.filter(
      (e) =>
        (isService(e.from) && (isJob(e.to) || under(e.to, "server/routes"))) ||
        (under(e.from, "server/queues") && (isService(e.to) || isJob(e.to))),
    );
    expect(show(up)).to.deep.equal([]);
  });

  it("lets routes reach the data only through services", () => {
    const direct = edges.filter((e) => under(e.from, "server/routes") && isStore(e.to));
    expect(show(direct)).to.deep.equal([]);
  });

  it("keeps the order lifecycle in its folder, with one table of status moves", () => {
    const lifecycle = [
      "checkout",
      "webhooks",
      "fulfilment",
      "orders",
      "events",
      "streams",
      "store",
      "batches",
    ];
    for (const name of lifecycle) expect(graph.has(`server/orders/${name}.ts`), name).to.equal(true);
    const moves = [...graph.keys()].filter((f) =>
      /ORDER_MOVES\s*[:=]/.test(readFileSync(path.join(ROOT, f), "utf8")),
    );
    expect(moves).to.deep.equal(["server/orders/status.ts"]);
  });

  it("has no import loop in the server, the indexer or lib", () => {
    const files = [...graph.keys()].filter((f) => ["server", "indexer", "lib"].some((l) => under(f, l)));
    expect(loops(files).map((loop) => loop.join(" → "))).to.deep.equal([]);
  });

  it("finds an import loop where there is one", () => {
    graph.set("server/__a.ts", ["server/__b.ts"]);
    graph.set("server/__b.ts", ["server/__a.ts"]);
    try {
      expect(loops(["server/__a.ts"])).to.deep.equal([["server/__a.ts", "server/__b.ts", "server/__a.ts"]]);
    } finally {
      graph.delete("server/__a.ts");
      graph.delete("server/__b.ts");
    }
  });

  it("names no internal indexer table in the API's code", () => {
    const pattern = new RegExp(`\\b(${INDEXER_INTERNAL_TABLES.join("|")})\\b`);
    const naming = [...graph.keys()]
      .filter((f) => under(f, "server"))
      .flatMap((f) =>
        readFileSync(path.join(ROOT, f), "utf8")
          .split("\n")
          .flatMap((line, i) => (pattern.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(naming).to.deep.equal([]);
  });

  it("decides job retries in one place: only the job worker and the queues use BullMQ's values", () => {
    const using = [...graph.keys()]
      .filter((f) => under(f, "server") || under(f, "indexer") || under(f, "lib"))
      .filter((f) => f !== "server/jobs/job-worker.ts" && f !== "server/queues/queues.ts")
      .filter((f) =>
        [
          ...readFileSync(path.join(ROOT, f), "utf8").matchAll(
            /import\s+(type\s+)?\{([^}]*)\}\s+from\s+"bullmq"/g,
          ),
        ].some(
          (m) =>
            !m[1] && m[2]!.split(",").some((name) => name.trim() !== "" && !name.trim().startsWith("type ")),
        ),
      );
    expect(using).to.deep.equal([]);
  });
});
