// The compute service's client of the Placement API (Nova's report client): compute node providers and their
// inventories, allocation candidates, and claims (allocations) for servers and migrations.
import { ServiceCallError, type ServiceClient } from "../shared/client/service-client.js";

const MV = { "openstack-api-version": "placement 1.39" };

/** Resource amounts by class, e.g. { VCPU: 2, MEMORY_MB: 512, DISK_GB: 1 }. */
export type Resources = Record<string, number>;
/** Allocations by provider uuid. */
export type Allocations = Record<string, { resources: Resources }>;

export interface Inventory {
  total: number;
  reserved?: number;
  min_unit?: number;
  max_unit?: number;
  step_size?: number;
  allocation_ratio?: number;
}

/** What GET /allocation_candidates returns (the parts the scheduler uses). */
export interface Candidates {
  allocation_requests: Array<{ allocations: Allocations }>;
  provider_summaries: Record<
    string,
    {
      resources: Record<string, { capacity: number; used: number }>;
      traits: string[];
      parent_provider_uuid: string | null;
      root_provider_uuid: string;
    }
  >;
}

/** Placement as the compute service uses it. */
export class PlacementClient {
  constructor(private readonly http: ServiceClient) {}

  private async req(method: string, path: string, body?: unknown) {
    return this.http.request(method, path, { body, headers: MV });
  }

  private fail(method: string, path: string, res: Awaited<ReturnType<ServiceClient["request"]>>): never {
    throw new ServiceCallError("placement", method, path, res);
  }

  /** Create the provider if it does not exist (by uuid). */
  async ensureProvider(uuid: string, name: string): Promise<void> {
    const got = await this.req("GET", `/resource_providers/${uuid}`);
    if (got.status === 200) return;
    const res = await this.req("POST", "/resource_providers", { uuid, name });
    if (res.status !== 200 && res.status !== 201 && res.status !== 409)
      this.fail("POST", "/resource_providers", res);
  }

  /** Replace a provider's inventories, retrying on generation conflicts. Refused (409 in use) shrinks are skipped. */
  async setInventory(uuid: string, inventories: Record<string, Inventory>): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const rp = await this.req("GET", `/resource_providers/${uuid}/inventories`);
      if (rp.status !== 200) this.fail("GET", `/resource_providers/${uuid}/inventories`, rp);
      const res = await this.req("PUT", `/resource_providers/${uuid}/inventories`, {
        resource_provider_generation: rp.body.resource_provider_generation,
        inventories,
      });
      if (res.status === 200) return;
      if (res.status !== 409) this.fail("PUT", `/resource_providers/${uuid}/inventories`, res);
      if (res.body?.errors?.[0]?.code !== "placement.concurrent_update") return;
    }
  }

  /** Replace a provider's aggregates (host aggregates mirror into placement for member_of). */
  async setAggregates(uuid: string, aggregates: string[]): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.req("GET", `/resource_providers/${uuid}/aggregates`);
      if (cur.status === 404) return;
      if (cur.status !== 200) this.fail("GET", `/resource_providers/${uuid}/aggregates`, cur);
      const res = await this.req("PUT", `/resource_providers/${uuid}/aggregates`, {
        aggregates,
        resource_provider_generation: cur.body.resource_provider_generation,
      });
      if (res.status === 200) return;
      if (res.status !== 409) this.fail("PUT", `/resource_providers/${uuid}/aggregates`, res);
    }
  }

  /** Delete a provider (a compute node removed with its service). Missing is fine. */
  async deleteProvider(uuid: string): Promise<void> {
    const res = await this.req("DELETE", `/resource_providers/${uuid}`);
    if (res.status !== 204 && res.status !== 404) this.fail("DELETE", `/resource_providers/${uuid}`, res);
  }

  /** GET /allocation_candidates with these query parameters. */
  async candidates(query: URLSearchParams): Promise<Candidates> {
    const path = `/allocation_candidates?${query.toString()}`;
    const res = await this.req("GET", path);
    if (res.status !== 200) this.fail("GET", path, res);
    return res.body as Candidates;
  }

  /** Current allocations of a consumer, its generation and type (null when it has none). */
  async getAllocations(
    consumer: string,
  ): Promise<{ allocations: Allocations; generation: number | null; type: string | null }> {
    const res = await this.req("GET", `/allocations/${consumer}`);
    if (res.status !== 200) this.fail("GET", `/allocations/${consumer}`, res);
    return {
      allocations: res.body.allocations ?? {},
      generation: res.body.consumer_generation ?? null,
      type: res.body.consumer_type ?? null,
    };
  }

  /**
   * Claim resources for a consumer (a server or a migration). False when placement refused because capacity was
   * taken meanwhile or the consumer changed (409); other errors throw.
   */
  async claim(
    consumer: string,
    allocations: Allocations,
    owner: { projectId: string; userId: string },
    generation: number | null,
    consumerType: "INSTANCE" | "MIGRATION" = "INSTANCE",
  ): Promise<boolean> {
    const res = await this.req("PUT", `/allocations/${consumer}`, {
      allocations,
      project_id: owner.projectId,
      user_id: owner.userId,
      consumer_generation: generation,
      consumer_type: consumerType,
    });
    if (res.status === 204) return true;
    if (res.status === 409) return false;
    return this.fail("PUT", `/allocations/${consumer}`, res);
  }

  /** Drop every allocation of a consumer (missing is fine). */
  async deleteAllocations(consumer: string): Promise<void> {
    const res = await this.req("DELETE", `/allocations/${consumer}`);
    if (res.status !== 204 && res.status !== 404) this.fail("DELETE", `/allocations/${consumer}`, res);
  }

  /**
   * Atomically move a consumer's allocations to another consumer (Nova moves a server's source-host allocation
   * to its migration record before claiming the destination). Retries on generation races. A consumer keeps
   * its type; a new `to` gets the other type than `from` (instance → migration on a move, back on a revert).
   */
  async moveAllocations(
    from: string,
    to: string,
    owner: { projectId: string; userId: string },
  ): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const src = await this.getAllocations(from);
      const dst = await this.getAllocations(to);
      const fromType = src.type ?? "INSTANCE";
      const toType = dst.type ?? (fromType === "INSTANCE" ? "MIGRATION" : "INSTANCE");
      const res = await this.req("POST", "/allocations", {
        [from]: {
          allocations: {},
          project_id: owner.projectId,
          user_id: owner.userId,
          consumer_generation: src.generation,
          consumer_type: fromType,
        },
        [to]: {
          allocations: src.allocations,
          project_id: owner.projectId,
          user_id: owner.userId,
          consumer_generation: dst.generation,
          consumer_type: toType,
        },
      });
      if (res.status === 204) return;
      if (res.status !== 409) this.fail("POST", "/allocations", res);
    }
    throw new Error(`placement: could not move allocations of ${from} to ${to} (kept conflicting)`);
  }

  /** Inventories and usages of a provider (for explaining why nothing fit). */
  async providerUsage(
    uuid: string,
  ): Promise<{ inventories: Record<string, Inventory>; usages: Resources } | null> {
    const inv = await this.req("GET", `/resource_providers/${uuid}/inventories`);
    if (inv.status === 404) return null;
    const use = await this.req("GET", `/resource_providers/${uuid}/usages`);
    if (inv.status !== 200 || use.status !== 200) return null;
    return { inventories: inv.body.inventories, usages: use.body.usages };
  }
}
