// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ISplitFactory} from "./interfaces/ISplitFactory.sol";
import {RevenueSplit} from "./RevenueSplit.sol";

/// @title Factory of revenue splits as deterministic minimal clones
contract SplitFactory is ISplitFactory {
    /// @inheritdoc ISplitFactory
    address public immutable implementation;

    /// @inheritdoc ISplitFactory
    mapping(address split => bool) public isSplit;

    constructor() {
        implementation = address(new RevenueSplit());
    }

    /// @inheritdoc ISplitFactory
    function createSplit(address[] calldata recipients, uint16[] calldata sharesBps) external returns (address split) {
        bytes32 salt = _saltOf(recipients, sharesBps);
        split = Clones.predictDeterministicAddress(implementation, salt);
        if (isSplit[split]) return split;

        Clones.cloneDeterministic(implementation, salt);
        RevenueSplit(payable(split)).initialize(recipients, sharesBps);
        isSplit[split] = true;
        emit SplitCreated(split, msg.sender, recipients, sharesBps);
    }

    /// @inheritdoc ISplitFactory
    function predictSplit(address[] calldata recipients, uint16[] calldata sharesBps) external view returns (address) {
        return Clones.predictDeterministicAddress(implementation, _saltOf(recipients, sharesBps));
    }

    function _saltOf(address[] calldata recipients, uint16[] calldata sharesBps) private pure returns (bytes32) {
        return keccak256(abi.encode(recipients, sharesBps));
    }
}
