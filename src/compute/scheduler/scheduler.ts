// The scheduler (Nova's FilterScheduler): placement proposes hosts that have room, filters drop the unsuitable
// ones, weighers rank the rest, and the best host whose allocation can still be claimed wins. Claims are the only
// synchronisation: two schedulers racing for the last room on a host both try, placement lets one win, and the
// other moves on to its next host.
import { ServiceCallError } from "../../shared/client/service-client.js";
import type { ComputeCore } from "../core.js";
import type { Allocations, Candidates } from "../placement-client.js";
import type { HostChoice } from "../rpc.js";
import { EXCLUDED, explainNoValidHost, LOST_RACE, notRequested } from "./explain.js";
import { defaultFilters, firstFailure } from "./filters.js";
import { loadGroupMembers, loadHostStates } from "./host-state.js";
import { asksForResources, candidatesQuery, placementRequest, type PlacementRequest } from "./request.js";
import type { HostFilter, HostState, HostWeigher, ScheduleRequest, Selection } from "./types.js";
import { defaultWeighers, weighHosts } from "./weighers.js";

/** No host can take the server; `explanation` says why in plain words ("0 of 3 hosts: 3 were disabled"). */
export class NoValidHost extends Error {
  /** The plain-words reason, without the "No valid host was found." prefix. */
  readonly explanation: string;

  constructor(explanation: string) {
    super(`No valid host was found. ${explanation}`);
    this.name = "NoValidHost";
    this.explanation = explanation;
  }
}

/** Filters and weighers to use instead of the defaults (tests, operators' choices). */
export interface SchedulerOptions {
  filters?: HostFilter[];
  weighers?: HostWeigher[];
}

const NO_CANDIDATES: Candidates = { allocation_requests: [], provider_summaries: {} };

/** Copy placement's capacity and usage of the host's root provider into its state. */
function applySummary(state: HostState, summary: Candidates["provider_summaries"][string] | undefined): void {
  const r = summary?.resources ?? {};
  if (r.VCPU) [state.vcpusTotal, state.vcpusUsed] = [r.VCPU.capacity, r.VCPU.used];
  if (r.MEMORY_MB) [state.memoryMbTotal, state.memoryMbUsed] = [r.MEMORY_MB.capacity, r.MEMORY_MB.used];
  if (r.DISK_GB) [state.diskGbTotal, state.diskGbUsed] = [r.DISK_GB.capacity, r.DISK_GB.used];
}

/** Allocation requests grouped by the root provider (compute node) of the providers they use. */
function byRoot(cands: Candidates): Map<string, Allocations[]> {
  const out = new Map<string, Allocations[]>();
  for (const ar of cands.allocation_requests) {
    const roots = new Set(
      Object.keys(ar.allocations).map((rp) => cands.provider_summaries[rp]?.root_provider_uuid ?? rp),
    );
    for (const root of roots) out.set(root, [...(out.get(root) ?? []), ar.allocations]);
  }
  return out;
}

/** Instances whose hosts the filters and weighers look at: group members and same/different_host hints. */
function relevantInstances(req: ScheduleRequest): string[] {
  const out = [...(req.group?.members ?? [])];
  for (const k of ["same_host", "different_host"]) {
    const v = req.spec.hints[k];
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === "string"));
  }
  return out;
}

/** Picks a host for one server and claims its resources in placement. */
export class Scheduler {
  private readonly filters: HostFilter[];
  private readonly weighers: HostWeigher[];

  constructor(
    private readonly core: ComputeCore,
    opts: SchedulerOptions = {},
  ) {
    this.filters = opts.filters ?? defaultFilters();
    this.weighers = opts.weighers ?? defaultWeighers(core.cfg);
  }

  /** Choose and claim a host (plus unclaimed alternates), or throw NoValidHost saying why. */
  async select(req: ScheduleRequest): Promise<Selection> {
    const { core } = this;
    const limit = core.cfg.compute.scheduler.maxPlacementResults;
    const preq = placementRequest(req.flavor, req.spec.image, req.spec.volumeBacked === true);
    if (!asksForResources(preq)) throw new NoValidHost("the flavor asks for no resources");

    let cands = NO_CANDIDATES;
    const inTree = req.requestedHost ? await this.nodeUuidOf(req.requestedHost) : undefined;
    if (inTree !== null) cands = await this.candidates(preq, limit, inTree);
    const requests = byRoot(cands);
    if (req.group && !req.group.members) {
      req = { ...req, group: { ...req.group, members: await loadGroupMembers(core.db, req.group.uuid) } };
    }
    const { states } = await loadHostStates(core.db, core.cfg, [...requests.keys()], relevantInstances(req));
    for (const s of states) applySummary(s, cands.provider_summaries[s.nodeUuid]);

    const reasons = new Map<string, string>();
    const passed = this.filter(states, req, reasons);
    const ranked = weighHosts(passed, req, this.weighers);
    for (let i = 0; i < ranked.length; i++) {
      const host = ranked[i].host;
      const allocations = requests.get(host.nodeUuid)![0];
      if (await this.claim(req, allocations)) {
        const seen = new Set([host.host]);
        const alternates: HostChoice[] = [];
        for (const { host: alt } of ranked.slice(i + 1)) {
          if (alternates.length >= req.alternates) break;
          if (seen.has(alt.host)) continue;
          seen.add(alt.host);
          alternates.push({ host: alt.host, node: alt.node, allocations: requests.get(alt.nodeUuid)![0] });
        }
        core.log.debug(
          { instance: req.instanceUuid, host: host.host, alternates: alternates.map((a) => a.host) },
          "scheduler: host selected",
        );
        return { choice: { host: host.host, node: host.node, allocations }, alternates };
      }
      reasons.set(host.nodeUuid, LOST_RACE);
    }

    const explanation = await explainNoValidHost(core, {
      req,
      preq,
      reasons,
      offered: new Set(requests.keys()),
      limitReached: cands.allocation_requests.length >= limit,
      limit,
    });
    core.log.info({ instance: req.instanceUuid, explanation }, "scheduler: no valid host");
    throw new NoValidHost(explanation);
  }

  /** Hosts that pass the requested-host and ignore lists and every filter; others get a reason. */
  private filter(states: HostState[], req: ScheduleRequest, reasons: Map<string, string>): HostState[] {
    const ignored = new Set(req.ignoreHosts ?? []);
    return states.filter((s) => {
      let reason: string | null;
      if (req.requestedHost && s.host !== req.requestedHost) reason = notRequested(req.requestedHost);
      else if (ignored.has(s.host)) reason = EXCLUDED;
      else reason = firstFailure(this.filters, s, req);
      if (reason) reasons.set(s.nodeUuid, reason);
      return reason === null;
    });
  }

  /**
   * Placement's candidates. Placement refuses traits it does not know (400): a forbidden one cannot be on any
   * host, so it is dropped and the query retried; otherwise no host can match.
   */
  private async candidates(preq: PlacementRequest, limit: number, inTree?: string): Promise<Candidates> {
    try {
      return await this.core.placement.candidates(candidatesQuery(preq, limit, inTree));
    } catch (e) {
      if (!(e instanceof ServiceCallError) || e.res.status !== 400) throw e;
      const text = JSON.stringify(e.res.body);
      const missing = (/No such trait\(s\): ([A-Z0-9_, ]+)/.exec(text)?.[1] ?? "")
        .split(",")
        .map((t) => t.trim());
      const unknown = (t: string) => missing.includes(t);
      const forbiddenOnly =
        !preq.groups.some((g) => g.required.some(unknown)) &&
        preq.groups.some((g) => g.forbidden.some(unknown));
      if (forbiddenOnly) {
        const groups = preq.groups.map((g) => ({ ...g, forbidden: g.forbidden.filter((t) => !unknown(t)) }));
        return this.candidates({ ...preq, groups }, limit, inTree);
      }
      this.core.log.info({ placement: text }, "scheduler: placement refused the candidates query");
      return NO_CANDIDATES;
    }
  }

  /** The compute node uuid of a host; null when the host has no node. */
  private async nodeUuidOf(host: string): Promise<string | null> {
    const row = await this.core.db
      .selectFrom("compute_node")
      .select("uuid")
      .where("host", "=", host)
      .executeTakeFirst();
    return row ? String(row.uuid) : null;
  }

  /**
   * Claim `allocations` for the request's consumer, replacing whatever it held: a server has one claim, on one
   * host (a move first hands its source claim to the migration record, the consumer used for a resize or cold
   * migration). False when placement refused (capacity taken or the consumer changed meanwhile: a race).
   */
  private async claim(req: ScheduleRequest, allocations: Allocations): Promise<boolean> {
    const current = await this.core.placement.getAllocations(req.consumer);
    const type = current.type === "MIGRATION" || req.consumer !== req.instanceUuid ? "MIGRATION" : "INSTANCE";
    return this.core.placement.claim(
      req.consumer,
      allocations,
      { projectId: req.projectId, userId: req.userId },
      current.generation,
      type,
    );
  }
}
