// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";

/// @title Test double: an ERC-1155 that reports the standard faithfully and then traps what it holds
/// @notice Anyone may mint. Once `trap` names a holder, every transfer out of that holder reverts, so items held
/// by an escrow that accepted this token could never leave it.
contract HostileItems is ERC1155 {
    address public trapped;

    error Trapped(address holder);

    constructor() ERC1155("") {}

    function mint(address to, uint256 id, uint256 amount) external {
        _mint(to, id, amount, "");
    }

    function trap(address holder) external {
        trapped = holder;
    }

    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (from != address(0) && from == trapped) revert Trapped(from);
        super._update(from, to, ids, values);
    }
}
