// What is attached to an instance, from its detail page: network interfaces (attach to a network, detach),
// volumes (attach an available one, detach) and floating IPs (associate a free one with an address, disassociate).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { useServerActionCalls } from "../action-calls.js";
import { Field, SaveDialog } from "../dialog.js";
import { Button, FormSelect, FormSelectOption } from "../pf.js";
import { useVolumeCalls } from "../service-calls.js";
import { useApi } from "../session.js";
import { Confirm, ErrorAlert } from "../ui.js";
import { SmallTable } from "./SmallTable.js";

/** How often the attachment lists refresh (ms). */
const POLL = 2000;

/** A section title with its add button. */
function Head({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div style={{ display: "flex", gap: "1rem", alignItems: "center", margin: "1rem 0 .5rem" }}>
      <h3 style={{ fontSize: "1rem" }}>{title}</h3>
      {children}
    </div>
  );
}

/** A dialog choosing one option of a list and sending it. */
function ChooseDialog(p: {
  id: string;
  title: string;
  submit: string;
  label: string;
  options: Array<[string, string]>;
  loading: boolean;
  missing: string;
  send(value: string): Promise<unknown>;
  onClose(): void;
  onDone(): void;
}) {
  const [value, setValue] = useState("");
  const error = value ? undefined : p.missing;
  const save = useMutation({ mutationFn: () => p.send(value), onSuccess: () => (p.onDone(), p.onClose()) });
  return (
    <SaveDialog
      id={`${p.id}-form`}
      title={p.title}
      submit={p.submit}
      save={save}
      errors={[error]}
      onClose={p.onClose}
    >
      {(shown) => (
        <Field label={p.label} id={p.id} error={error} shown={shown} required>
          <FormSelect id={p.id} value={value} onChange={(_e, x) => setValue(x)}>
            <FormSelectOption
              value=""
              label={p.loading ? "Loading..." : p.options.length ? "Choose..." : "None available"}
              isPlaceholder
            />
            {p.options.map(([v, l]) => (
              <FormSelectOption key={v} value={v} label={l} />
            ))}
          </FormSelect>
        </Field>
      )}
    </SaveDialog>
  );
}

/** Interfaces, volumes and floating IPs of server `id` (named `name`), each attachable and detachable. */
export function InstanceAttachments({ id, name }: { id: string; name: string }) {
  const { r, session } = useApi();
  const { sa } = useServerActionCalls();
  const { v } = useVolumeCalls();
  const qc = useQueryClient();
  const project = session.project.id;
  // Attaching and detaching finish after the call returns: the lists poll while shown.
  const ifaces = useQuery({
    queryKey: ["server-interfaces", id],
    queryFn: () => sa.interfaces(id),
    refetchInterval: POLL,
  });
  const vols = useQuery({
    queryKey: ["server-volumes", id],
    queryFn: () => sa.volumes(id),
    refetchInterval: POLL,
  });
  const fips = useQuery({
    queryKey: ["fips", project],
    queryFn: r.floatingIps,
    refetchInterval: POLL,
  });
  const [dialog, setDialog] = useState<"interface" | "volume" | "fip" | null>(null);
  const [removing, setRemoving] = useState<{ what: string; run(): Promise<unknown> } | null>(null);
  const networks = useQuery({ queryKey: ["networks", project], queryFn: r.networks });
  const netName = new Map((networks.data ?? []).map((n) => [n.id, n.name || n.id]));
  const volumes = useQuery({ queryKey: ["volumes", project], queryFn: v.volumes });
  const refresh = () => {
    for (const key of [
      ["server-interfaces", id],
      ["server-volumes", id],
      ["server", id],
      ["servers", project],
      ["volumes", project],
      ["fips", project],
      ["ports", project],
      ["server-actions", id],
    ])
      void qc.invalidateQueries({ queryKey: key });
  };
  const remove = useMutation({ mutationFn: (f: () => Promise<unknown>) => f(), onSettled: refresh });
  const ports = new Set((ifaces.data ?? []).map((i) => i.port_id));
  const mine = (fips.data ?? []).filter((f) => f.port_id && ports.has(f.port_id));
  const volName = new Map((volumes.data ?? []).map((x) => [x.id, x.name || x.id]));
  const close = () => setDialog(null);
  const button = (label: string, onClick: () => void) => (
    <Button size="sm" variant="danger" onClick={onClick} aria-label={label}>
      {label.split(" ")[0]}
    </Button>
  );
  return (
    <>
      <ErrorAlert error={remove.error} title="The cloud refused the request" />
      <Head title="Interfaces">
        <Button size="sm" variant="secondary" onClick={() => setDialog("interface")}>
          Attach Interface
        </Button>
      </Head>
      <SmallTable
        label="interfaces"
        rows={ifaces.data}
        loading={ifaces.isLoading}
        heads={["Port", "Network", "MAC", "Addresses", "State"]}
        rowKey={(i) => i.port_id}
        cells={(i) => [
          i.port_id,
          netName.get(i.net_id) ?? i.net_id,
          i.mac_addr,
          i.fixed_ips.map((f) => f.ip_address).join(", "),
          i.port_state,
        ]}
        remove={(i) =>
          button(`Detach interface ${i.fixed_ips[0]?.ip_address ?? i.port_id}`, () =>
            setRemoving({ what: `the interface ${i.port_id}`, run: () => sa.detachInterface(id, i.port_id) }),
          )
        }
        empty="No interface."
      />
      <Head title="Volumes">
        <Button size="sm" variant="secondary" onClick={() => setDialog("volume")}>
          Attach Volume
        </Button>
      </Head>
      <SmallTable
        label="attached volumes"
        rows={vols.data}
        loading={vols.isLoading}
        heads={["Volume", "Device"]}
        rowKey={(a) => a.volumeId}
        cells={(a) => [volName.get(a.volumeId) ?? a.volumeId, a.device ?? "-"]}
        remove={(a) =>
          button(`Detach volume ${a.volumeId}`, () =>
            setRemoving({ what: `the volume ${a.volumeId}`, run: () => v.detach(id, a.volumeId) }),
          )
        }
        empty="No volume attached."
      />
      <Head title="Floating IPs">
        <Button size="sm" variant="secondary" onClick={() => setDialog("fip")}>
          Associate Floating IP
        </Button>
      </Head>
      <SmallTable
        label="floating IPs"
        rows={mine}
        loading={fips.isLoading}
        heads={["Floating IP", "Fixed IP"]}
        rowKey={(f) => f.id}
        cells={(f) => [f.floating_ip_address, f.fixed_ip_address ?? "-"]}
        remove={(f) =>
          button(`Disassociate ${f.floating_ip_address}`, () =>
            setRemoving({
              what: `the floating IP ${f.floating_ip_address}`,
              run: () => r.associateFloatingIp(f.id, null),
            }),
          )
        }
        empty="No floating IP."
      />
      <Confirm
        open={!!removing}
        title="Detach?"
        body={
          <>
            Remove {removing?.what} from {name}.
          </>
        }
        action="Detach"
        onClose={() => setRemoving(null)}
        onConfirm={() => {
          if (removing) remove.mutate(removing.run);
          setRemoving(null);
        }}
      />
      {dialog === "interface" && (
        <ChooseDialog
          id="interface-network"
          title={`Attach interface to ${name}`}
          submit="Attach"
          label="Network"
          missing="Choose a network."
          loading={networks.isLoading}
          options={(networks.data ?? [])
            .filter((n) => !n["router:external"])
            .map((n) => [n.id, n.name || n.id])}
          send={(net) => sa.attachInterface(id, net)}
          onClose={close}
          onDone={refresh}
        />
      )}
      {dialog === "volume" && (
        <ChooseDialog
          id="attach-volume"
          title={`Attach volume to ${name}`}
          submit="Attach"
          label="Volume"
          missing="Choose a volume."
          loading={volumes.isLoading}
          options={(volumes.data ?? [])
            .filter((x) => x.status === "available")
            .map((x) => [x.id, `${x.name || x.id} (${x.size} GiB)`])}
          send={(vol) => v.attach(id, vol)}
          onClose={close}
          onDone={refresh}
        />
      )}
      {dialog === "fip" && (
        <ChooseDialog
          id="associate-fip"
          title={`Associate a floating IP with ${name}`}
          submit="Associate"
          label="Floating IP"
          missing="Choose a floating IP (allocate one on the Floating IPs page)."
          loading={fips.isLoading || ifaces.isLoading}
          options={(fips.data ?? []).filter((f) => !f.port_id).map((f) => [f.id, f.floating_ip_address])}
          send={(fip) => {
            const port = ifaces.data?.[0]?.port_id;
            if (!port) return Promise.reject(new Error("The instance has no interface to associate with."));
            return r.associateFloatingIp(fip, port);
          }}
          onClose={close}
          onDone={refresh}
        />
      )}
    </>
  );
}
