/** Runs a load generator in a process of its own, so it never shares the measured server's event loop. */
import { spawn } from "node:child_process";
import type { DownloadPlan } from "./download-load.ts";
import type { LoadPlan, LoadResult } from "./load.ts";

/**
 * Runs a load generator in a child process with `plan`: bench/lib/load.ts (autocannon) for small
 * answers, bench/lib/download-load.ts for file downloads. Any answer but 2xx fails the benchmark.
 */
export function runLoad<R extends LoadResult = LoadResult>(
  plan: LoadPlan | DownloadPlan,
  generator: "load" | "download-load" = "load",
): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", `bench/lib/${generator}.ts`], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const result = JSON.parse(out) as R;
      if (result.non2xx > 0 || result.errors > 0) {
        return reject(new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors under load`));
      }
      resolve(result);
    });
    child.stdin.end(JSON.stringify(plan));
  });
}
