// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Development stablecoin: 6 decimals like USDC, and anyone may mint
/// @notice Deployed only on development chains (`npm start`, tests) as the token card revenue is settled in;
/// a real network's deployment names a real stablecoin instead.
contract DevStablecoin is ERC20 {
    constructor() ERC20("Test USD", "tUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
