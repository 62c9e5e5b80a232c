import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;

/** The npm solc package's wasm build, so compiling never downloads a compiler. */
function compiler(extra: { viaIR?: boolean } = {}) {
  return {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: { optimizer: { enabled: true, runs: 1000 }, evmVersion: "cancun", ...extra },
  };
}

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    compilers: [compiler()],
    // The settlement token is any ERC-20 a deployment names: the server reads it through this interface's types.
    npmFilesToBuild: ["@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol"],
    overrides: {
      // Licenses are the largest contract; the IR pipeline keeps it under the 24 KiB code size limit.
      "contracts/LicenseToken.sol": compiler({ viaIR: true }),
    },
  },
  paths: {
    tests: { mocha: "test" },
  },
  test: {
    mocha: {
      timeout: 120_000,
      rootHooks: {
        // A connection or timer some library keeps open must not hold the finished run open for ever.
        // The wait is long enough for the reporter's summary and the run's exit status to be set
        // first, even on a loaded machine: an earlier exit ends the run without them.
        afterAll() {
          setTimeout(() => process.exit(), 60_000).unref();
        },
      },
    },
  },
  networks: {
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.CHAIN_RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
  typechain: {
    outDir: "types/typechain",
  },
});
