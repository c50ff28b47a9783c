// Compute services: every Nova service with its state; a compute service is disabled with a reason (the scheduler
// then places nothing on its host) and enabled again.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { ComputeService } from "../../../api/admin-compute.js";
import { Field, FormDialog } from "../../dialog.js";
import { Button, Label, TextInput } from "../../pf.js";
import { ErrorAlert, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, when } from "./common.js";

const KEY = ["admin", "services"];

/** The disable dialog: the reason other admins will see (required, at most 255 characters). */
function DisableService({ svc, onClose }: { svc: ComputeService; onClose(): void }) {
  const { ac } = useAdminCalls();
  const qc = useQueryClient();
  const [reason, setReason] = useState("");
  const [shown, setShown] = useState(false);
  const error = !reason.trim()
    ? "Enter the reason (other admins see it)."
    : reason.length > 255
      ? "At most 255 characters."
      : undefined;
  const save = useMutation({
    mutationFn: () => ac.setService(svc.id, false, reason.trim()),
    onSuccess: () => (void qc.invalidateQueries({ queryKey: KEY }), onClose()),
  });
  return (
    <FormDialog
      id="service-form"
      title={`Disable ${svc.binary} on ${svc.host}`}
      submit="Disable Service"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <p>New instances are no longer scheduled to {svc.host}; its running instances stay.</p>
      <Field label="Reason" id="service-reason" error={error} shown={shown} required>
        <TextInput
          id="service-reason"
          value={reason}
          onChange={(_e, v) => setReason(v)}
          validated={shown && error ? "error" : "default"}
        />
      </Field>
    </FormDialog>
  );
}

/** The Compute Services page's content. */
function ServicesContent() {
  const { ac } = useAdminCalls();
  const qc = useQueryClient();
  const services = useQuery({ queryKey: KEY, queryFn: ac.services, refetchInterval: 10_000 });
  const [disabling, setDisabling] = useState<ComputeService | null>(null);
  const enable = useMutation({
    mutationFn: (id: string) => ac.setService(id, true),
    onSettled: () => qc.invalidateQueries({ queryKey: KEY }),
  });
  const what = (s: ComputeService) => `${s.binary} on ${s.host}`;
  return (
    <>
      <PageTitle title="Compute Services" />
      {enable.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={enable.error} />
        </div>
      )}
      <ResourceTable<ComputeService>
        label="compute services"
        rows={services.data}
        loading={services.isLoading}
        error={services.error}
        rowKey={(s) => s.id}
        filterText={(s) =>
          `${s.binary} ${s.host} ${s.zone} ${s.status} ${s.state} ${s.disabled_reason ?? ""}`
        }
        empty="No compute service has registered."
        columns={[
          { title: "Name", cell: (s) => s.binary },
          { title: "Host", cell: (s) => s.host },
          { title: "Zone", cell: (s) => s.zone },
          {
            title: "Status",
            cell: (s) => (
              <Label isCompact color={s.status === "enabled" ? "green" : "orange"} data-status={s.status}>
                {s.status === "enabled" ? "Enabled" : "Disabled"}
              </Label>
            ),
          },
          {
            title: "State",
            cell: (s) => (
              <Label isCompact color={s.state === "up" ? "green" : "red"}>
                {s.state === "up" ? "Up" : "Down"}
              </Label>
            ),
          },
          { title: "Disabled reason", cell: (s) => s.disabled_reason || "-" },
          { title: "Last update", cell: (s) => when(s.updated_at) },
        ]}
        actions={(s) => {
          if (s.binary !== "nova-compute") return null;
          const verb = s.status === "enabled" ? "Disable" : "Enable";
          return (
            <Button
              size="sm"
              variant="secondary"
              onClick={() => (verb === "Disable" ? setDisabling(s) : enable.mutate(s.id))}
              isLoading={enable.isPending && enable.variables === s.id}
              aria-label={`${verb} ${what(s)}`}
            >
              {verb}
            </Button>
          );
        }}
      />
      {disabling && <DisableService svc={disabling} onClose={() => setDisabling(null)} />}
    </>
  );
}

/** The Compute Services page. */
export default adminPage(ServicesContent);
