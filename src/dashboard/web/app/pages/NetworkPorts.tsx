// A network's ports in a dialog: the list (name, addresses, MAC, owner, status), create one with an optional fixed
// IP on one of the network's subnets, delete an unowned one after confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Network, Subnet } from "../../api/resources.js";
import { Field, SaveDialog, TextField } from "../dialog.js";
import { Button, FormSelect, FormSelectOption } from "../pf.js";
import { usePortCalls } from "../service-calls.js";
import { ErrorAlert } from "../ui.js";
import { SmallTable } from "./SmallTable.js";

/** Why a port name is refused, or undefined (a port name may be empty). */
function portNameError(name: string): string | undefined {
  return name.length > 255 ? "At most 255 characters." : undefined;
}

/** Why a fixed IP is refused (not an IPv4 or IPv6 address; empty lets Neutron choose), or undefined. */
export function fixedIpError(ip: string): string | undefined {
  const v = ip.trim();
  if (!v) return undefined;
  const m4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (m4) return m4.slice(1).every((o) => Number(o) <= 255) ? undefined : "Enter an IP address.";
  return /^[0-9a-fA-F:]{2,39}$/.test(v) && v.includes(":") ? undefined : "Enter an IP address.";
}

/** The Ports dialog of one network; `subnets` are the network's. */
export function NetworkPorts({
  net,
  subnets,
  onClose,
}: {
  net: Network;
  subnets: Subnet[];
  onClose(): void;
}) {
  const { pt } = usePortCalls();
  const qc = useQueryClient();
  const key = ["ports", net.id];
  const ports = useQuery({ queryKey: key, queryFn: () => pt.ports(net.id), refetchInterval: 5000 });
  const [name, setName] = useState("");
  const [subnet, setSubnet] = useState(subnets[0]?.id ?? "");
  const [ip, setIp] = useState("");
  const [confirming, setConfirming] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: key });
  const errors = { name: portNameError(name), ip: fixedIpError(ip) };
  const create = useMutation({
    mutationFn: () =>
      pt.createPort({
        network_id: net.id,
        name: name.trim(),
        subnet_id: subnet || undefined,
        ip_address: ip.trim() || undefined,
      }),
    onSuccess: () => (setName(""), setIp(""), refresh()),
  });
  const del = useMutation({ mutationFn: pt.deletePort, onSettled: refresh });
  const cidr = new Map(subnets.map((s) => [s.id, s.cidr]));
  return (
    <SaveDialog
      id="port-form"
      title={`Ports of ${net.name || net.id}`}
      submit="Create Port"
      save={create}
      errors={Object.values(errors)}
      onClose={onClose}
      cancel="Close"
      footer={
        <>
          <ErrorAlert error={del.error ?? ports.error} title="The cloud refused the request" />
          <SmallTable
            label="ports"
            rows={ports.data}
            loading={ports.isLoading}
            heads={["Name", "Fixed IPs", "MAC", "Attached to", "Status"]}
            cells={(p) => [
              p.name || p.id.slice(0, 8),
              p.fixed_ips.map((f) => f.ip_address).join(", ") || "-",
              p.mac_address,
              p.device_owner || "-",
              p.status,
            ]}
            rowKey={(p) => p.id}
            empty="No ports on this network."
            remove={(p) =>
              p.device_owner ? null : confirming === p.id ? (
                <Button size="sm" variant="danger" onClick={() => (setConfirming(null), del.mutate(p.id))}>
                  Confirm delete
                </Button>
              ) : (
                <Button
                  size="sm"
                  variant="secondary"
                  isDanger
                  onClick={() => setConfirming(p.id)}
                  aria-label={`Delete port ${p.name || p.id}`}
                >
                  Delete
                </Button>
              )
            }
          />
        </>
      }
    >
      {(shown) => (
        <>
          <TextField
            label="Port name"
            id="port-name"
            value={name}
            onChange={setName}
            error={errors.name}
            shown={shown}
          />
          <Field label="Subnet" id="port-subnet" shown={shown}>
            <FormSelect id="port-subnet" value={subnet} onChange={(_e, v) => setSubnet(v)}>
              <FormSelectOption value="" label="Any subnet" />
              {subnets.map((s) => (
                <FormSelectOption key={s.id} value={s.id} label={`${s.name || s.id} (${cidr.get(s.id)})`} />
              ))}
            </FormSelect>
          </Field>
          <TextField
            label="Fixed IP (optional)"
            id="port-ip"
            value={ip}
            onChange={setIp}
            error={errors.ip}
            shown={shown}
          />
        </>
      )}
    </SaveDialog>
  );
}
