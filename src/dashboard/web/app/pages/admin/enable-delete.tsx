// Row actions of identity entries that can be disabled and deleted (projects, users): Enable at once, Disable and
// Delete after confirmation, the cloud's refusal shown above the list.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Button, Label } from "../../pf.js";
import { Confirm, ErrorAlert } from "../../ui.js";

/** An entry with a name that can be enabled. */
interface Toggled {
  id: string;
  name: string;
  enabled: boolean;
}

/** Whether an entry is enabled, as a label. */
export function EnabledLabel({ enabled }: { enabled: boolean }) {
  return (
    <Label isCompact color={enabled ? "green" : "grey"}>
      {enabled ? "Yes" : "No"}
    </Label>
  );
}

/** The actions, their confirmation and error: `noun` names the entry, the bodies say what confirming does. */
export function useEnableDelete<T extends Toggled>(o: {
  noun: string;
  queryKey: readonly unknown[];
  setEnabled(id: string, enabled: boolean): Promise<unknown>;
  remove(id: string): Promise<unknown>;
  deleteBody(x: T): ReactNode;
  disableBody(x: T): ReactNode;
}) {
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState<{ x: T; what: "delete" | "disable" } | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: o.queryKey });
  const del = useMutation({ mutationFn: o.remove, onSettled: refresh });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) => o.setEnabled(id, enabled),
    onSettled: refresh,
  });
  const error = del.error ?? toggle.error;
  const button = (x: T, what: "Enable" | "Disable" | "Delete", onClick: () => void) => (
    <Button
      size="sm"
      variant={what === "Delete" ? "danger" : "secondary"}
      onClick={onClick}
      aria-label={`${what} ${x.name}`}
    >
      {what}
    </Button>
  );
  return {
    error: error && (
      <div style={{ padding: "0 1.5rem" }}>
        <ErrorAlert error={error} />
      </div>
    ),
    actions: (x: T) => (
      <>
        {x.enabled
          ? button(x, "Disable", () => setConfirm({ x, what: "disable" }))
          : button(x, "Enable", () => toggle.mutate({ id: x.id, enabled: true }))}
        {button(x, "Delete", () => setConfirm({ x, what: "delete" }))}
      </>
    ),
    dialog: (
      <Confirm
        open={!!confirm}
        title={`${confirm?.what === "delete" ? "Delete" : "Disable"} ${o.noun}?`}
        body={confirm && (confirm.what === "delete" ? o.deleteBody(confirm.x) : o.disableBody(confirm.x))}
        action={confirm?.what === "delete" ? "Delete" : "Disable"}
        onClose={() => setConfirm(null)}
        onConfirm={() => {
          if (confirm?.what === "delete") del.mutate(confirm.x.id);
          else if (confirm) toggle.mutate({ id: confirm.x.id, enabled: false });
          setConfirm(null);
        }}
      />
    ),
  };
}
