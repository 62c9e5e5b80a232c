import type { ListWorksQuery, Work } from "../../lib/api/works.ts";
import { notFound } from "../errors.ts";
import type { WorksRepository } from "../repositories/works.ts";

/** Registered works as the API answers them: by id, by content hash, by page, by version chain; 404 when absent. */
export class WorkLookup {
  constructor(private readonly works: WorksRepository) {}

  async byId(workId: string): Promise<Work> {
    return (await this.works.findById(workId)) ?? Promise.reject(notFound("work", { id: workId }));
  }

  async byHash(sha256: string): Promise<Work> {
    return (await this.works.findByHash(sha256)) ?? Promise.reject(notFound("work", { sha256 }));
  }

  /** Newest first, with cursor pagination. */
  list(query: ListWorksQuery): Promise<{ items: Work[]; nextCursor: string | null }> {
    return this.works.list(query);
  }

  /** The work's version chain, oldest first. */
  async versions(workId: string): Promise<{ items: Work[] }> {
    const items = await this.works.versions(workId);
    if (items.length === 0) throw notFound("work", { id: workId });
    return { items };
  }
}
