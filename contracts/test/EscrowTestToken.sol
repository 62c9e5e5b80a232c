// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Test double: a 6-decimals stablecoin anyone can mint, used to pay for escrowed trades in tests
contract EscrowTestToken is ERC20 {
    constructor() ERC20("Escrow Test USD", "eUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
