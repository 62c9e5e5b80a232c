/** Builds the web app into dist/web when its sources changed (npm start and the web tests call this). */
import { execFile } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WEB_SOURCE = path.join(ROOT, "web");
export const WEB_DIST = path.join(ROOT, "dist", "web");

async function newestChange(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const { mtimeMs } = await stat(path.join(entry.parentPath, entry.name));
    newest = Math.max(newest, mtimeMs);
  }
  return newest;
}

/** Builds the web app when dist/web is missing or older than any file under web/; answers the dist directory. */
export async function ensureWebBuild(): Promise<string> {
  const built = await stat(path.join(WEB_DIST, "index.html")).catch(() => null);
  if (!built || built.mtimeMs < (await newestChange(WEB_SOURCE))) {
    // A child process, so the build is a production one whatever NODE_ENV this process runs with.
    const vite = path.join(
      path.dirname(createRequire(import.meta.url).resolve("vite/package.json")),
      "bin",
      "vite.js",
    );
    await promisify(execFile)(
      process.execPath,
      [vite, "build", "--config", path.join(WEB_SOURCE, "vite.config.ts"), "--logLevel", "error"],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: "production" } },
    );
  }
  return WEB_DIST;
}
