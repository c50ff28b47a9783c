// An instance's action log (os-instance-actions): what was done to it, when, by whom, and how it ended.
import { useQuery } from "@tanstack/react-query";
import { useServerActionCalls } from "../action-calls.js";
import { ErrorAlert } from "../ui.js";
import { SmallTable } from "./SmallTable.js";

/** The action log table of server `id`, refreshed with the server (its key is invalidated after each action). */
export function InstanceActionLog({ id }: { id: string }) {
  const { sa } = useServerActionCalls();
  const log = useQuery({
    queryKey: ["server-actions", id],
    queryFn: () => sa.actions(id),
    refetchInterval: 5000,
  });
  return (
    <>
      <ErrorAlert error={log.error} title="Could not read the action log" />
      <SmallTable
        label="action log"
        rows={log.data}
        loading={log.isLoading}
        heads={["Action", "Started", "Request", "User", "Message"]}
        cells={(a) => [a.action, a.start_time, a.request_id, a.user_id, a.message ?? "-"]}
        rowKey={(a) => a.request_id}
        rowData={(a) => a.action}
        empty="No action yet."
      />
    </>
  );
}
