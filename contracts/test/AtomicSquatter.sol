// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IWorkRegistry} from "../interfaces/IWorkRegistry.sol";

/// @title Test double of a front-runner that commits and reveals a hash it saw in one transaction
contract AtomicSquatter {
    /// @notice Commits to (this, contentHash, nonce) and reveals it at once.
    function squat(IWorkRegistry registry, bytes32 contentHash, uint256 nonce) external {
        uint256 workId = registry.commit(registry.commitmentOf(address(this), contentHash, nonce));
        registry.reveal(workId, contentHash, nonce, "bafkreisquat", "ipfs://squat", 0);
    }
}
