// Routers: the project's routers with their external gateway and subnet interfaces; create with a gateway on an
// external network, add and remove interfaces, delete with confirmation (Neutron refuses while interfaces remain).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Router } from "../../api/routers.js";
import { Button, FormSelect, FormSelectOption, TextInput } from "../pf.js";
import { Field, FormDialog } from "../dialog.js";
import { useRouterCalls } from "../service-calls.js";
import { useApi } from "../session.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";

/** The create dialog: name and the external network of the gateway (or none). */
function CreateRouter({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { r, session } = useApi();
  const { rt } = useRouterCalls();
  const nets = useQuery({ queryKey: ["networks", session.project.id], queryFn: r.networks });
  const external = (nets.data ?? []).filter((n) => n["router:external"]);
  const [name, setName] = useState("");
  const [gateway, setGateway] = useState<string | null>(null);
  const chosen = gateway ?? external[0]?.id ?? "";
  const [shown, setShown] = useState(false);
  const error = !name.trim() ? "Enter a name." : name.length > 255 ? "At most 255 characters." : undefined;
  const save = useMutation({
    mutationFn: () => rt.createRouter(name.trim(), chosen || null),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <FormDialog
      id="router-form"
      title="Create Router"
      submit="Create Router"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Router name" id="router-name" error={error} shown={shown} required>
        <TextInput
          id="router-name"
          value={name}
          onChange={(_e, x) => setName(x)}
          validated={shown && error ? "error" : "default"}
        />
      </Field>
      <Field label="External network" id="router-gateway" shown={shown}>
        <FormSelect id="router-gateway" value={chosen} onChange={(_e, x) => setGateway(x)}>
          <FormSelectOption value="" label="No gateway" />
          {external.map((n) => (
            <FormSelectOption key={n.id} value={n.id} label={n.name || n.id} />
          ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}

/** The add interface dialog: one of the project's subnets not already on the router. */
function AddInterface(props: { router: Router; taken: Set<string>; onClose(): void; onDone(): void }) {
  const { r, session } = useApi();
  const { rt } = useRouterCalls();
  const nets = useQuery({ queryKey: ["networks", session.project.id], queryFn: r.networks });
  const subnets = useQuery({ queryKey: ["subnets", session.project.id], queryFn: r.subnets });
  const netName = new Map((nets.data ?? []).map((n) => [n.id, n]));
  const usable = (subnets.data ?? []).filter(
    (s) => !props.taken.has(s.id) && !netName.get(s.network_id)?.["router:external"],
  );
  const [subnet, setSubnet] = useState("");
  const [shown, setShown] = useState(false);
  const error = subnet ? undefined : "Choose a subnet.";
  const save = useMutation({
    mutationFn: () => rt.addInterface(props.router.id, subnet),
    onSuccess: () => (props.onDone(), props.onClose()),
  });
  return (
    <FormDialog
      id="interface-form"
      title={`Add interface to ${props.router.name || props.router.id}`}
      submit="Add Interface"
      busy={save.isPending}
      error={save.error}
      onClose={props.onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Subnet" id="interface-subnet" error={error} shown={shown} required>
        <FormSelect
          id="interface-subnet"
          value={subnet}
          onChange={(_e, x) => setSubnet(x)}
          validated={shown && error ? "error" : "default"}
        >
          <FormSelectOption
            value=""
            label={subnets.isLoading ? "Loading..." : usable.length ? "Choose a subnet" : "No free subnet"}
            isPlaceholder
          />
          {usable.map((s) => (
            <FormSelectOption
              key={s.id}
              value={s.id}
              label={`${netName.get(s.network_id)?.name || s.network_id}: ${s.cidr}`}
            />
          ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}

/** The Routers page. */
export default function Routers() {
  const { r, session } = useApi();
  const { rt, project } = useRouterCalls();
  const qc = useQueryClient();
  const key = ["routers", project];
  const routers = useQuery({ queryKey: key, queryFn: rt.routers, refetchInterval: 5000 });
  const ifaces = useQuery({ queryKey: ["router-interfaces", project], queryFn: rt.interfaces });
  const nets = useQuery({ queryKey: ["networks", session.project.id], queryFn: r.networks });
  const subnets = useQuery({ queryKey: ["subnets", session.project.id], queryFn: r.subnets });
  const netName = new Map((nets.data ?? []).map((n) => [n.id, n.name || n.id]));
  const cidr = new Map((subnets.data ?? []).map((s) => [s.id, s.cidr]));
  const [creating, setCreating] = useState(false);
  const [adding, setAdding] = useState<Router | null>(null);
  const [deleting, setDeleting] = useState<Router | null>(null);
  const [removing, setRemoving] = useState<{ router: string; subnet: string; what: string } | null>(null);
  const refresh = () =>
    void Promise.all([
      qc.invalidateQueries({ queryKey: key }),
      qc.invalidateQueries({ queryKey: ["router-interfaces", project] }),
    ]);
  const remove = useMutation({
    mutationFn: ({ router, subnet }: { router: string; subnet: string }) =>
      rt.removeInterface(router, subnet),
    onSettled: refresh,
  });
  const del = useMutation({ mutationFn: rt.deleteRouter, onSettled: refresh });
  const label = (x: Router) => x.name || x.id;
  const of = (x: Router) => (ifaces.data ?? []).filter((i) => i.router === x.id);
  const gateway = (x: Router) =>
    x.external_gateway_info
      ? `${netName.get(x.external_gateway_info.network_id) ?? x.external_gateway_info.network_id}${(
          x.external_gateway_info.external_fixed_ips ?? []
        )
          .map((f) => ` ${f.ip_address}`)
          .join("")}`
      : "-";
  return (
    <>
      <PageTitle title="Routers">
        <Button onClick={() => setCreating(true)}>Create Router</Button>
      </PageTitle>
      {(del.error || remove.error) && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error ?? remove.error} />
        </div>
      )}
      <ResourceTable<Router>
        label="routers"
        rows={routers.data}
        loading={routers.isLoading}
        error={routers.error}
        rowKey={(x) => x.id}
        filterText={(x) => `${x.name} ${x.status} ${gateway(x)}`}
        empty="Create a router to connect your networks to an external network."
        columns={[
          { title: "Name", cell: label },
          { title: "Status", cell: (x) => x.status },
          { title: "External Gateway", cell: gateway },
          {
            title: "Interfaces",
            cell: (x) =>
              of(x).length === 0
                ? "-"
                : of(x).map((i) => (
                    <div
                      key={i.port + i.subnet}
                      style={{ display: "flex", gap: ".5rem", alignItems: "center" }}
                    >
                      <span>
                        {cidr.get(i.subnet) ?? i.subnet} ({i.ip})
                      </span>
                      <Button
                        size="sm"
                        variant="secondary"
                        onClick={() =>
                          setRemoving({
                            router: x.id,
                            subnet: i.subnet,
                            what: `${cidr.get(i.subnet) ?? i.subnet} from ${label(x)}`,
                          })
                        }
                        aria-label={`Remove interface ${cidr.get(i.subnet) ?? i.subnet} from ${label(x)}`}
                      >
                        Remove
                      </Button>
                    </div>
                  )),
          },
        ]}
        actions={(x) => (
          <>
            <Button size="sm" onClick={() => setAdding(x)} aria-label={`Add interface to ${label(x)}`}>
              Add Interface
            </Button>
            <Button
              size="sm"
              variant="danger"
              onClick={() => setDeleting(x)}
              aria-label={`Delete ${label(x)}`}
            >
              Delete
            </Button>
          </>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete router?"
        body={<>The router {deleting && label(deleting)} is deleted (remove its interfaces first).</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      <Confirm
        open={!!removing}
        title="Remove interface?"
        body={<>Remove the interface {removing?.what}: the subnet loses its route through this router.</>}
        action="Remove"
        onClose={() => setRemoving(null)}
        onConfirm={() => {
          if (removing) remove.mutate(removing);
          setRemoving(null);
        }}
      />
      {creating && <CreateRouter onClose={() => setCreating(false)} onDone={refresh} />}
      {adding && (
        <AddInterface
          router={adding}
          taken={new Set(of(adding).map((i) => i.subnet))}
          onClose={() => setAdding(null)}
          onDone={refresh}
        />
      )}
    </>
  );
}
