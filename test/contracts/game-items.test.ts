import { expect } from "chai";
import { network } from "hardhat";
import { GameItems__factory, IGameItems__factory } from "../../types/typechain/index.js";
import { interfaceIdOf } from "../helpers/trading.js";

const { ethers, networkHelpers } = await network.create();

const SWORD = 1n;
const POTION = 2n;
const UNDEFINED = 99n;
const CAP = 10n;

async function deployItems() {
  const [admin, studio, player, other] = await ethers.getSigners();
  const items = await new GameItems__factory(admin!).deploy(admin!.address);
  const MINTER_ROLE = await items.MINTER_ROLE();
  await items.grantRole(MINTER_ROLE, studio!.address);
  return {
    items,
    studioItems: items.connect(studio!),
    admin: admin!,
    studio: studio!,
    player: player!,
    other: other!,
    MINTER_ROLE,
  };
}

async function withItems() {
  const setup = await deployItems();
  await setup.studioItems.defineItem(SWORD, "ipfs://sword", CAP);
  await setup.studioItems.defineItem(POTION, "ipfs://potion", 0);
  return setup;
}

describe("GameItems", () => {
  describe("roles", () => {
    it("defines MINTER_ROLE as keccak256('MINTER_ROLE')", async () => {
      const { MINTER_ROLE } = await networkHelpers.loadFixture(deployItems);
      expect(MINTER_ROLE).to.equal(ethers.id("MINTER_ROLE"));
    });

    it("gives the constructor's admin DEFAULT_ADMIN_ROLE but not MINTER_ROLE", async () => {
      const { items, admin, MINTER_ROLE } = await networkHelpers.loadFixture(deployItems);
      expect(await items.hasRole(await items.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await items.hasRole(MINTER_ROLE, admin.address)).to.equal(false);
    });

    it("lets the admin revoke the studio's MINTER_ROLE, after which it cannot mint", async () => {
      const { items, studioItems, studio, player, MINTER_ROLE } = await networkHelpers.loadFixture(withItems);
      await items.revokeRole(MINTER_ROLE, studio.address);
      await expect(studioItems.mint(player.address, SWORD, 1, "0x"))
        .to.be.revertedWithCustomError(items, "AccessControlUnauthorizedAccount")
        .withArgs(studio.address, MINTER_ROLE);
    });
  });

  describe("defineItem", () => {
    it("records the URI and cap and emits ItemDefined and the ERC-1155 URI event", async () => {
      const { items, studioItems } = await networkHelpers.loadFixture(deployItems);
      await expect(studioItems.defineItem(SWORD, "ipfs://sword", CAP))
        .to.emit(items, "ItemDefined")
        .withArgs(SWORD, "ipfs://sword", CAP)
        .and.to.emit(items, "URI")
        .withArgs("ipfs://sword", SWORD);
      expect(await items.uri(SWORD)).to.equal("ipfs://sword");
      expect(await items.maxSupplyOf(SWORD)).to.equal(CAP);
      expect(await items.totalMinted(SWORD)).to.equal(0n);
    });

    it("rejects a second definition of the same id with ItemAlreadyDefined", async () => {
      const { items, studioItems } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.defineItem(SWORD, "ipfs://other", 0))
        .to.be.revertedWithCustomError(items, "ItemAlreadyDefined")
        .withArgs(SWORD);
      expect(await items.uri(SWORD)).to.equal("ipfs://sword");
      expect(await items.maxSupplyOf(SWORD)).to.equal(CAP);
    });

    it("rejects an uncapped item defined twice with ItemAlreadyDefined", async () => {
      const { items, studioItems } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.defineItem(POTION, "ipfs://potion-2", 5))
        .to.be.revertedWithCustomError(items, "ItemAlreadyDefined")
        .withArgs(POTION);
    });

    it("rejects callers without MINTER_ROLE", async () => {
      const { items, admin, MINTER_ROLE } = await networkHelpers.loadFixture(deployItems);
      await expect(items.connect(admin).defineItem(SWORD, "ipfs://sword", CAP))
        .to.be.revertedWithCustomError(items, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, MINTER_ROLE);
    });
  });

  describe("mint", () => {
    it("mints a defined item, counts it and emits TransferSingle", async () => {
      const { items, studioItems, studio, player } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.mint(player.address, SWORD, 4, "0x"))
        .to.emit(items, "TransferSingle")
        .withArgs(studio.address, ethers.ZeroAddress, player.address, SWORD, 4);
      expect(await items.balanceOf(player.address, SWORD)).to.equal(4n);
      expect(await items.totalMinted(SWORD)).to.equal(4n);
    });

    it("mints up to exactly the cap", async () => {
      const { items, studioItems, player } = await networkHelpers.loadFixture(withItems);
      await studioItems.mint(player.address, SWORD, CAP - 1n, "0x");
      await studioItems.mint(player.address, SWORD, 1, "0x");
      expect(await items.totalMinted(SWORD)).to.equal(CAP);
    });

    it("rejects minting past the cap with SupplyExceeded and mints nothing", async () => {
      const { items, studioItems, player } = await networkHelpers.loadFixture(withItems);
      await studioItems.mint(player.address, SWORD, 8, "0x");
      await expect(studioItems.mint(player.address, SWORD, 3, "0x"))
        .to.be.revertedWithCustomError(items, "SupplyExceeded")
        .withArgs(SWORD, CAP, 3);
      expect(await items.totalMinted(SWORD)).to.equal(8n);
      expect(await items.balanceOf(player.address, SWORD)).to.equal(8n);
    });

    it("mints any quantity of an uncapped item", async () => {
      const { items, studioItems, player } = await networkHelpers.loadFixture(withItems);
      await studioItems.mint(player.address, POTION, 10n ** 30n, "0x");
      expect(await items.totalMinted(POTION)).to.equal(10n ** 30n);
      expect(await items.maxSupplyOf(POTION)).to.equal(0n);
    });

    it("rejects an undefined item with UnknownItem", async () => {
      const { items, studioItems, player } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.mint(player.address, UNDEFINED, 1, "0x"))
        .to.be.revertedWithCustomError(items, "UnknownItem")
        .withArgs(UNDEFINED);
    });

    it("rejects callers without MINTER_ROLE", async () => {
      const { items, player, MINTER_ROLE } = await networkHelpers.loadFixture(withItems);
      await expect(items.connect(player).mint(player.address, SWORD, 1, "0x"))
        .to.be.revertedWithCustomError(items, "AccessControlUnauthorizedAccount")
        .withArgs(player.address, MINTER_ROLE);
    });

    it("rejects minting to a contract that is not an ERC-1155 receiver", async () => {
      const { items, studioItems } = await networkHelpers.loadFixture(withItems);
      const itemsAddress = await items.getAddress();
      await expect(studioItems.mint(itemsAddress, SWORD, 1, "0x"))
        .to.be.revertedWithCustomError(items, "ERC1155InvalidReceiver")
        .withArgs(itemsAddress);
      expect(await items.totalMinted(SWORD)).to.equal(0n);
    });
  });

  describe("mintBatch", () => {
    it("mints several defined items, counts each and emits TransferBatch", async () => {
      const { items, studioItems, studio, player } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.mintBatch(player.address, [SWORD, POTION], [2, 7], "0x"))
        .to.emit(items, "TransferBatch")
        .withArgs(studio.address, ethers.ZeroAddress, player.address, [SWORD, POTION], [2, 7]);
      expect(await items.balanceOfBatch([player.address, player.address], [SWORD, POTION])).to.deep.equal([
        2n,
        7n,
      ]);
      expect(await items.totalMinted(SWORD)).to.equal(2n);
      expect(await items.totalMinted(POTION)).to.equal(7n);
    });

    it("rejects arrays of different lengths with LengthMismatch", async () => {
      const { items, studioItems, player } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.mintBatch(player.address, [SWORD, POTION], [1], "0x"))
        .to.be.revertedWithCustomError(items, "LengthMismatch")
        .withArgs(2, 1);
    });

    it("rejects a batch containing an undefined item with UnknownItem and mints nothing", async () => {
      const { items, studioItems, player } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.mintBatch(player.address, [SWORD, UNDEFINED], [1, 1], "0x"))
        .to.be.revertedWithCustomError(items, "UnknownItem")
        .withArgs(UNDEFINED);
      expect(await items.totalMinted(SWORD)).to.equal(0n);
    });

    it("counts a repeated id cumulatively against the cap with SupplyExceeded", async () => {
      const { items, studioItems, player } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.mintBatch(player.address, [SWORD, SWORD], [6, 5], "0x"))
        .to.be.revertedWithCustomError(items, "SupplyExceeded")
        .withArgs(SWORD, CAP, 5);
      expect(await items.totalMinted(SWORD)).to.equal(0n);
    });

    it("rejects callers without MINTER_ROLE", async () => {
      const { items, player, MINTER_ROLE } = await networkHelpers.loadFixture(withItems);
      await expect(items.connect(player).mintBatch(player.address, [SWORD], [1], "0x"))
        .to.be.revertedWithCustomError(items, "AccessControlUnauthorizedAccount")
        .withArgs(player.address, MINTER_ROLE);
    });
  });

  describe("setItemURI", () => {
    it("changes the item's URI and emits the ERC-1155 URI event", async () => {
      const { items, studioItems } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.setItemURI(SWORD, "ipfs://sword-v2"))
        .to.emit(items, "URI")
        .withArgs("ipfs://sword-v2", SWORD);
      expect(await items.uri(SWORD)).to.equal("ipfs://sword-v2");
      expect(await items.uri(POTION)).to.equal("ipfs://potion");
    });

    it("rejects an undefined item with UnknownItem", async () => {
      const { items, studioItems } = await networkHelpers.loadFixture(withItems);
      await expect(studioItems.setItemURI(UNDEFINED, "ipfs://x"))
        .to.be.revertedWithCustomError(items, "UnknownItem")
        .withArgs(UNDEFINED);
    });

    it("rejects callers without MINTER_ROLE", async () => {
      const { items, admin, MINTER_ROLE } = await networkHelpers.loadFixture(withItems);
      await expect(items.connect(admin).setItemURI(SWORD, "ipfs://x"))
        .to.be.revertedWithCustomError(items, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, MINTER_ROLE);
    });
  });

  describe("views", () => {
    it("rejects uri() of an undefined item with UnknownItem", async () => {
      const { items } = await networkHelpers.loadFixture(withItems);
      await expect(items.uri(UNDEFINED))
        .to.be.revertedWithCustomError(items, "UnknownItem")
        .withArgs(UNDEFINED);
    });

    it("reports zero cap and zero minted for an undefined item", async () => {
      const { items } = await networkHelpers.loadFixture(withItems);
      expect(await items.maxSupplyOf(UNDEFINED)).to.equal(0n);
      expect(await items.totalMinted(UNDEFINED)).to.equal(0n);
    });

    it("leaves totalMinted unchanged when holders transfer items", async () => {
      const { items, studioItems, player, other } = await networkHelpers.loadFixture(withItems);
      await studioItems.mint(player.address, SWORD, 5, "0x");
      await items.connect(player).safeTransferFrom(player.address, other.address, SWORD, 2, "0x");
      expect(await items.balanceOf(other.address, SWORD)).to.equal(2n);
      expect(await items.totalMinted(SWORD)).to.equal(5n);
    });

    it("supports ERC-165, ERC-1155, ERC-1155 metadata, AccessControl and IGameItems", async () => {
      const { items } = await networkHelpers.loadFixture(deployItems);
      for (const id of ["0x01ffc9a7", "0xd9b67a26", "0x0e89341c", "0x7965db0b"]) {
        expect(await items.supportsInterface(id), id).to.equal(true);
      }
      expect(await items.supportsInterface(interfaceIdOf(IGameItems__factory.createInterface()))).to.equal(
        true,
      );
      expect(await items.supportsInterface("0xffffffff")).to.equal(false);
    });
  });
});
