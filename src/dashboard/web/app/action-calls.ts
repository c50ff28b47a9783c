// The session's instance action and volume backup/transfer calls, made once per session for the pages using them.
import { useMemo } from "react";
import { backupCalls } from "../api/backups.js";
import { serverActionCalls } from "../api/server-actions.js";
import { useApi } from "./session.js";

/** The instance action calls of the session, and the project id the query keys use. */
export function useServerActionCalls() {
  const { api, session } = useApi();
  return { sa: useMemo(() => serverActionCalls(api), [api]), project: session.project.id };
}

/** The backup and transfer calls of the session, and the project id the query keys use. */
export function useBackupCalls() {
  const { api, session } = useApi();
  return { b: useMemo(() => backupCalls(api), [api]), project: session.project.id };
}
