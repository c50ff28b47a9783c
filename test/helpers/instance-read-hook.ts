// A Kysely plugin that runs a callback right after a SELECT from compute_instance returned, before the caller
// sees the rows: how the system_metadata tests put another writer between a read and the write based on it.
import {
  SelectQueryNode,
  TableNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from "kysely";

/** Options: only reads returning the row of `uuid` count; fire at most `times` times (default once). */
export interface ReadHookOptions {
  uuid?: string;
  times?: number;
}

/** Runs `between` after reads of compute_instance (see ReadHookOptions); `fired` counts the runs. */
export class AfterInstanceRead implements KyselyPlugin {
  private readonly reads = new WeakSet<object>();
  fired = 0;

  constructor(
    private readonly between: () => Promise<void>,
    private readonly o: ReadHookOptions = {},
  ) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const n = args.node;
    if (
      SelectQueryNode.is(n) &&
      n.from?.froms.some((f) => TableNode.is(f) && f.table.identifier.name === "compute_instance")
    )
      this.reads.add(args.queryId);
    return n;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const { uuid, times = 1 } = this.o;
    if (
      this.reads.has(args.queryId) &&
      this.fired < times &&
      (uuid === undefined || args.result.rows.some((r) => r.uuid === uuid))
    ) {
      this.fired++;
      await this.between();
    }
    return args.result;
  }
}
