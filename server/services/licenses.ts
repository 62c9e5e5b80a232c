import type { License, LicenseWithHistory, ListLicensesQuery } from "../../lib/api/licenses.ts";
import type { Page } from "../../lib/api/primitives.ts";
import { notFound } from "../errors.ts";
import type { LicensesRepository } from "../repositories/licenses.ts";
import type { WorksRepository } from "../repositories/works.ts";

/** Licenses as the API answers them: valid or not by the chain's heads and clock at the time of asking. */
export class LicensesService {
  constructor(
    private readonly licenses: LicensesRepository,
    private readonly works: WorksRepository,
    private readonly clock: { nowSeconds(): Promise<number> },
  ) {}

  /** A page of the licenses a wallet holds, newest first. */
  async byHolder(query: ListLicensesQuery): Promise<Page<License>> {
    return this.licenses.byHolder(query, await this.works.heads(), await this.clock.nowSeconds());
  }

  /** One license with its renewals and transfers; 404 when no such token was minted. */
  async withHistory(tokenId: string): Promise<LicenseWithHistory> {
    const license = await this.licenses.byToken(
      tokenId,
      await this.works.heads(),
      await this.clock.nowSeconds(),
    );
    if (!license) throw notFound("license", { tokenId });
    return { ...license, history: await this.licenses.history(tokenId) };
  }
}
