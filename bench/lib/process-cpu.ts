/**
 * CPU time a process tree used, from /proc (Linux): on a machine other work shares, CPU seconds per
 * request say what a server costs better than requests per second, which also count the waiting.
 */
import { readFile } from "node:fs/promises";

const TICKS_PER_SECOND = 100;

async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.split(" ").filter(Boolean).map(Number);
}

/** User and system CPU seconds of `pid` and every process below it, as they stand now. */
export async function cpuSecondsOfTree(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  if (stat === null) return 0;
  // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are
  // the 14th and 15th of the line.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const own = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  const below = await Promise.all((await childrenOf(pid)).map(cpuSecondsOfTree));
  return below.reduce((sum, s) => sum + s, own);
}
