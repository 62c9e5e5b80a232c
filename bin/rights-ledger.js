#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx rights-ledger` works from a checkout without a build step.
import process from "node:process";
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("./rights-ledger.ts", import.meta.url);
process.exitCode = await main(process.argv.slice(2));
