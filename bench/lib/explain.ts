/**
 * Query plans as a benchmark prints them: `EXPLAIN (ANALYZE, BUFFERS)` of a statement, one line
 * per plan node with the index it used and the rows it read, so a regression shows why.
 */
import type pg from "pg";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Actual Total Time": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  "Shared Hit Blocks": number;
  "Shared Read Blocks": number;
  Plans?: PlanNode[];
}

export interface PlanSummary {
  executionMs: number;
  planningMs: number;
  /** Rows the scans produced or filtered out, over every loop. */
  rowsRead: number;
  sharedHit: number;
  sharedRead: number;
  /** The indexes the plan used. */
  indexes: string[];
  lines: string[];
}

/** EXPLAIN (ANALYZE, BUFFERS) of `text` with `values`, summarized. */
export async function explain(
  db: pg.Pool | pg.ClientBase,
  text: string,
  values: unknown[],
): Promise<PlanSummary> {
  const { rows } = await db.query<{
    "QUERY PLAN": [{ Plan: PlanNode; "Execution Time": number; "Planning Time": number }];
  }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values);
  const [root] = rows[0]!["QUERY PLAN"];
  const lines: string[] = [];
  const indexes = new Set<string>();
  let rowsRead = 0;
  const walk = (node: PlanNode, depth: number) => {
    const loops = node["Actual Loops"];
    const removed = (node["Rows Removed by Filter"] ?? 0) + (node["Rows Removed by Index Recheck"] ?? 0);
    if (/Scan/.test(node["Node Type"])) rowsRead += (node["Actual Rows"] + removed) * loops;
    if (node["Index Name"]) indexes.add(node["Index Name"]);
    const on = node["Relation Name"] ? ` on ${node["Relation Name"]}` : "";
    const using = node["Index Name"] ? ` using ${node["Index Name"]}` : "";
    const filtered = removed ? `, ${removed.toLocaleString("en-US")} filtered out` : "";
    lines.push(
      `${"  ".repeat(depth)}${node["Node Type"]}${using}${on}: ${node["Actual Rows"].toLocaleString("en-US")} rows` +
        `${loops > 1 ? ` × ${loops.toLocaleString("en-US")} loops` : ""}${filtered}, ${node["Actual Total Time"].toFixed(1)} ms`,
    );
    for (const child of node.Plans ?? []) walk(child, depth + 1);
  };
  walk(root.Plan, 1);
  return {
    executionMs: root["Execution Time"],
    planningMs: root["Planning Time"],
    rowsRead,
    sharedHit: root.Plan["Shared Hit Blocks"],
    sharedRead: root.Plan["Shared Read Blocks"],
    indexes: [...indexes],
    lines,
  };
}

/** The summary as lines to print under a title. */
export function planLines(title: string, plan: PlanSummary): string[] {
  return [
    `${title}: ${plan.executionMs.toFixed(1)} ms (planning ${plan.planningMs.toFixed(1)} ms), ` +
      `${plan.rowsRead.toLocaleString("en-US")} rows read, buffers ${plan.sharedHit.toLocaleString("en-US")} hit ` +
      `/ ${plan.sharedRead.toLocaleString("en-US")} read, indexes: ${plan.indexes.join(", ") || "none"}`,
    ...plan.lines,
  ];
}

export interface Statement {
  text: string;
  values: unknown[];
}

/** `pool` for a repository, remembering every statement run through it (to EXPLAIN them). */
export function recording(pool: pg.Pool): { db: pg.Pool; statements: Statement[] } {
  const statements: Statement[] = [];
  const db = new Proxy(pool, {
    get(target, property) {
      if (property !== "query") return Reflect.get(target, property) as unknown;
      // A query given as a config object keeps its other options (rowMode, types) when it runs.
      return (text: string | pg.QueryConfig, values?: unknown[]) => {
        const config = typeof text === "string" ? { text, values: values ?? [] } : text;
        statements.push({ text: config.text, values: config.values ?? [] });
        return target.query(config);
      };
    },
  });
  return { db, statements };
}
