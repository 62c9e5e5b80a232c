// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IWorkRegistry} from "../interfaces/IWorkRegistry.sol";

/// @title Test double of the work registry: the read functions other contracts use, with works set directly
contract RegistryStub {
    mapping(uint256 workId => IWorkRegistry.Work) private _works;
    uint256 public workCount;

    error UnknownWork(uint256 workId);

    function setWork(uint256 workId, address creator) external {
        _works[workId] = IWorkRegistry.Work({
            creator: creator,
            registeredAt: uint48(block.timestamp),
            parentId: 0,
            superseded: false
        });
        if (workId > workCount) workCount = workId;
    }

    function getWork(uint256 workId) public view returns (IWorkRegistry.Work memory work) {
        work = _works[workId];
        if (work.creator == address(0)) revert UnknownWork(workId);
    }

    function creatorOf(uint256 workId) external view returns (address) {
        return getWork(workId).creator;
    }
}
