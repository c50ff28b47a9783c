// An instance's action log (os-instance-actions): what was done to it, when, by whom, and how it ended.
import { useQuery } from "@tanstack/react-query";
import { useServerActionCalls } from "../action-calls.js";
import { ErrorAlert, Loading } from "../ui.js";

/** The action log table of server `id`, refreshed with the server (its key is invalidated after each action). */
export function InstanceActionLog({ id }: { id: string }) {
  const { sa } = useServerActionCalls();
  const log = useQuery({
    queryKey: ["server-actions", id],
    queryFn: () => sa.actions(id),
    refetchInterval: 5000,
  });
  if (log.isLoading) return <Loading what="action log" />;
  return (
    <>
      <ErrorAlert error={log.error} title="Could not read the action log" />
      {log.data && log.data.length === 0 ? (
        <p>No action yet.</p>
      ) : (
        <table
          className="pf-v6-c-table pf-m-compact pf-m-grid-md"
          aria-label="action log"
          data-testid="action-log"
        >
          <thead className="pf-v6-c-table__thead">
            <tr className="pf-v6-c-table__tr">
              {["Action", "Started", "Request", "User", "Message"].map((t) => (
                <th key={t} className="pf-v6-c-table__th" scope="col">
                  {t}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="pf-v6-c-table__tbody">
            {(log.data ?? []).map((a) => (
              <tr key={a.request_id} className="pf-v6-c-table__tr" data-action={a.action}>
                <td className="pf-v6-c-table__td" data-label="Action">
                  {a.action}
                </td>
                <td className="pf-v6-c-table__td" data-label="Started">
                  {a.start_time}
                </td>
                <td className="pf-v6-c-table__td" data-label="Request">
                  {a.request_id}
                </td>
                <td className="pf-v6-c-table__td" data-label="User">
                  {a.user_id}
                </td>
                <td className="pf-v6-c-table__td" data-label="Message">
                  {a.message ?? "-"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
