// Networks: the networks the project sees with their subnets; create a network with a subnet; its ports; delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { Network } from "../../api/resources.js";
import {
  Button,
  Form,
  FormGroup,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextInput,
} from "../pf.js";
import { useApi } from "../session.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";
import { NetworkPorts } from "./NetworkPorts.js";

/** Whether `s` is an IPv4 or IPv6 CIDR (checked in the browser before sending). */
export function validCidr(s: string): boolean {
  const m4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (m4) return m4.slice(1, 5).every((o) => Number(o) <= 255) && Number(m4[5]) <= 32;
  const m6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
  return !!m6 && m6[1]!.includes(":") && Number(m6[2]) <= 128;
}

/** The create dialog. */
function CreateNetwork({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { r } = useApi();
  const [name, setName] = useState("");
  const [cidr, setCidr] = useState("192.168.10.0/24");
  const [gateway, setGateway] = useState("");
  const [touched, setTouched] = useState(false);
  const errors = {
    name: name.trim() && name.length <= 255 ? undefined : "Enter a name (at most 255 characters).",
    cidr:
      !cidr || validCidr(cidr.trim())
        ? undefined
        : "Enter a CIDR such as 192.168.10.0/24, or leave empty for no subnet.",
    gateway: !gateway || /^[0-9a-fA-F.:]+$/.test(gateway.trim()) ? undefined : "Enter an IP address.",
  };
  const save = useMutation({
    mutationFn: () =>
      r.createNetwork(
        name.trim(),
        cidr.trim() ? { cidr: cidr.trim(), gateway: gateway.trim() || undefined } : undefined,
      ),
    onSuccess: () => (onDone(), onClose()),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!Object.values(errors).some(Boolean)) save.mutate();
  };
  const field = (
    id: string,
    label: string,
    value: string,
    set: (v: string) => void,
    error?: string,
    required = false,
  ) => (
    <FormGroup label={label} fieldId={id} isRequired={required}>
      <TextInput
        id={id}
        value={value}
        onChange={(_e, v) => set(v)}
        validated={touched && error ? "error" : "default"}
      />
      {touched && error && (
        <HelperText>
          <HelperTextItem variant="error">{error}</HelperTextItem>
        </HelperText>
      )}
    </FormGroup>
  );
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="net-title">
      <ModalHeader title="Create Network" labelId="net-title" />
      <ModalBody>
        <ErrorAlert error={save.error} title="The cloud refused the network" />
        <Form id="net-form" onSubmit={submit} noValidate>
          {field("net-name", "Network name", name, setName, errors.name, true)}
          {field("net-cidr", "Subnet CIDR", cidr, setCidr, errors.cidr)}
          {field("net-gateway", "Gateway IP (optional)", gateway, setGateway, errors.gateway)}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="net-form" isLoading={save.isPending} isDisabled={save.isPending}>
          Create
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The Networks page. */
export default function Networks() {
  const { r, session } = useApi();
  const qc = useQueryClient();
  const key = ["networks", session.project.id];
  const nets = useQuery({ queryKey: key, queryFn: r.networks });
  const subnets = useQuery({ queryKey: ["subnets", session.project.id], queryFn: r.subnets });
  const cidrs = new Map((subnets.data ?? []).map((s) => [s.id, s.cidr]));
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Network | null>(null);
  const [portsOf, setPortsOf] = useState<Network | null>(null);
  const refresh = () =>
    Promise.all([qc.invalidateQueries({ queryKey: key }), qc.invalidateQueries({ queryKey: ["subnets"] })]);
  const del = useMutation({ mutationFn: r.deleteNetwork, onSettled: refresh });
  return (
    <>
      <PageTitle title="Networks">
        <Button onClick={() => setCreating(true)}>Create Network</Button>
      </PageTitle>
      {del.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error} title="Could not delete the network" />
        </div>
      )}
      <ResourceTable<Network>
        label="networks"
        rows={nets.data}
        loading={nets.isLoading}
        error={nets.error}
        rowKey={(n) => n.id}
        filterText={(n) => `${n.name} ${n.status} ${n.subnets.map((s) => cidrs.get(s) ?? "").join(" ")}`}
        empty="Create a network for your instances."
        columns={[
          { title: "Name", cell: (n) => n.name || n.id },
          { title: "Subnets", cell: (n) => n.subnets.map((s) => cidrs.get(s) ?? s).join(", ") || "-" },
          { title: "Shared", cell: (n) => (n.shared ? "Yes" : "No") },
          { title: "External", cell: (n) => (n["router:external"] ? "Yes" : "No") },
          { title: "Status", cell: (n) => n.status },
        ]}
        actions={(n) => (
          <>
            <Button
              size="sm"
              variant="secondary"
              onClick={() => setPortsOf(n)}
              aria-label={`Ports of ${n.name}`}
            >
              Ports
            </Button>{" "}
            {n.project_id === session.project.id && (
              <Button
                size="sm"
                variant="danger"
                onClick={() => setDeleting(n)}
                aria-label={`Delete ${n.name}`}
              >
                Delete
              </Button>
            )}
          </>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete network?"
        body={<>The network {deleting?.name} and its subnets are deleted.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      {portsOf && (
        <NetworkPorts
          net={portsOf}
          subnets={(subnets.data ?? []).filter((s) => s.network_id === portsOf.id)}
          onClose={() => setPortsOf(null)}
        />
      )}
      {creating && <CreateNetwork onClose={() => setCreating(false)} onDone={() => void refresh()} />}
    </>
  );
}
