/**
 * Reads V8 CPU profiles (`node --cpu-prof` writes them as .cpuprofile files) and says where the
 * time went: the functions with the most self time, and the share of samples spent inside chosen
 * functions (their callees included).
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  /** Microseconds on the monotonic clock `process.hrtime` reads. */
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  /** `function (file:line)`, the file relative to the project. */
  name: string;
  selfMs: number;
  /** Of all samples, idle ones included. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Samples spent waiting for something to do. */
  idleShare: number;
  top: Frame[];
  /** Self time by package, project file or node: module, most first. */
  modules: Frame[];
  /** For each matcher: the share of busy (non-idle) samples with a matching frame on the stack. */
  inclusive: Record<string, number>;
}

const IDLE = "(idle)";

/** The package (node_modules/<name>), project file or node: module a frame's code comes from. */
function moduleOf(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, "").replace(`${process.cwd()}/`, "");
  if (!file) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  const at = file.lastIndexOf("node_modules/");
  if (at >= 0) {
    const parts = file.slice(at + "node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (file.startsWith("node:")) return file.replace(/^node:(internal\/)?/, "node:").replace(/\/.*$/, "");
  if (file.startsWith("wasm:")) return "(wasm)";
  return file;
}

function frameName(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, "").replace(`${process.cwd()}/`, "");
  const where = file ? ` (${file}:${frame.lineNumber + 1})` : "";
  return `${frame.functionName || "(anonymous)"}${where}`;
}

/** An interval on the monotonic clock, in microseconds: `monotonicMicros()` at its start and end. */
export interface Window {
  from: number;
  to: number;
}

/** Now on the clock CPU profiles are timed by (V8 and process.hrtime both read CLOCK_MONOTONIC). */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface SummaryOptions {
  /** Shares of busy samples with a frame on the stack that the matcher accepts. */
  matchers?: Record<string, (frame: CallFrame) => boolean>;
  topN?: number;
  /** Processes left out (a cluster's primary, which serves nothing). */
  skipPids?: number[];
  /** Only samples taken within these intervals (the measured load, not start-up or warm-up). */
  windows?: Window[];
}

/** Summarizes the .cpuprofile files in `dir` together (one per process). */
export async function summarizeProfiles(
  dir: string,
  { matchers = {}, topN = 15, skipPids = [], windows }: SummaryOptions = {},
): Promise<ProfileSummary> {
  // node names them CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile.
  const files = (await readdir(dir)).filter(
    (f) => f.endsWith(".cpuprofile") && !skipPids.includes(Number(f.split(".")[3])),
  );
  if (files.length === 0) throw new Error(`no .cpuprofile file in ${dir}`);
  const self = new Map<string, number>();
  const byModule = new Map<string, number>();
  const inside = Object.fromEntries(Object.keys(matchers).map((k) => [k, 0])) as Record<string, number>;
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(dir, file), "utf8")) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    // Which matchers hold for a node or any of its callers, worked out once per node.
    const matched = new Map<number, string[]>();
    const matchesOf = (id: number): string[] => {
      const known = matched.get(id);
      if (known) return known;
      const node = byId.get(id)!;
      const up = parent.has(id) ? matchesOf(parent.get(id)!) : [];
      const own = Object.keys(matchers).filter((k) => !up.includes(k) && matchers[k]!(node.callFrame));
      const all = own.length ? [...up, ...own] : up;
      matched.set(id, all);
      return all;
    };
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (windows && !windows.some((w) => at >= w.from && at <= w.to)) return;
      const ms = delta / 1000;
      const node = byId.get(id)!;
      total += ms;
      if (node.callFrame.functionName === IDLE) {
        idle += ms;
        return;
      }
      const name = frameName(node.callFrame);
      self.set(name, (self.get(name) ?? 0) + ms);
      const module = moduleOf(node.callFrame);
      byModule.set(module, (byModule.get(module) ?? 0) + ms);
      for (const k of matchesOf(id)) inside[k]! += ms;
    });
  }
  const busy = total - idle;
  const ranked = (times: Map<string, number>) =>
    [...times]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([name, selfMs]) => ({ name, selfMs, share: selfMs / total }));
  return {
    totalMs: total,
    idleShare: total ? idle / total : 0,
    top: ranked(self),
    modules: ranked(byModule),
    inclusive: Object.fromEntries(Object.entries(inside).map(([k, ms]) => [k, busy ? ms / busy : 0])),
  };
}

/** The summary as lines to print. */
export function profileLines(title: string, summary: ProfileSummary): string[] {
  const lines = [
    `${title}: ${(summary.totalMs / 1000).toFixed(1)} s of samples, ${(summary.idleShare * 100).toFixed(1)} % idle; top self time:`,
  ];
  for (const f of summary.top) lines.push(`  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
  lines.push("self time by module:");
  for (const f of summary.modules) lines.push(`  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
  for (const [k, share] of Object.entries(summary.inclusive)) {
    lines.push(`  ${k}: ${(share * 100).toFixed(1)} % of busy samples`);
  }
  return lines;
}
