// Floating IPs: allocate from an external network, associate with an instance's port, disassociate, release.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { FloatingIp } from "../../api/resources.js";
import {
  Button,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
} from "../pf.js";
import { useApi } from "../session.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";

/** The allocate dialog: choose the external network (pool). */
function Allocate({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { r, session } = useApi();
  const nets = useQuery({ queryKey: ["networks", session.project.id], queryFn: r.networks });
  const pools = (nets.data ?? []).filter((n) => n["router:external"]);
  const [pool, setPool] = useState("");
  const chosen = pool || pools[0]?.id || "";
  const save = useMutation({
    mutationFn: () => r.allocateFloatingIp(chosen),
    onSuccess: () => (onDone(), onClose()),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen) save.mutate();
  };
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="fip-title">
      <ModalHeader title="Allocate Floating IP" labelId="fip-title" />
      <ModalBody>
        <ErrorAlert error={save.error} title="The cloud refused the allocation" />
        <Form id="fip-form" onSubmit={submit} noValidate>
          <FormGroup label="Pool" fieldId="fip-pool" isRequired>
            <FormSelect id="fip-pool" value={chosen} onChange={(_e, v) => setPool(v)}>
              {pools.map((n) => (
                <FormSelectOption key={n.id} value={n.id} label={n.name || n.id} />
              ))}
            </FormSelect>
            {!nets.isLoading && pools.length === 0 && (
              <HelperText>
                <HelperTextItem variant="error">
                  No external network: ask an administrator to create one.
                </HelperTextItem>
              </HelperText>
            )}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button
          type="submit"
          form="fip-form"
          isDisabled={!chosen || save.isPending}
          isLoading={save.isPending}
        >
          Allocate IP
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The associate dialog: choose an instance's port (address). */
function Associate({ fip, onClose, onDone }: { fip: FloatingIp; onClose(): void; onDone(): void }) {
  const { r, session } = useApi();
  const servers = useQuery({ queryKey: ["servers", session.project.id], queryFn: r.servers });
  const ports = useQuery({ queryKey: ["ports", session.project.id], queryFn: () => r.ports() });
  const names = new Map((servers.data ?? []).map((s) => [s.id, s.name]));
  const targets = (ports.data ?? [])
    .filter((p) => names.has(p.device_id))
    .flatMap((p) =>
      p.fixed_ips
        .filter((ip) => !ip.ip_address.includes(":"))
        .map((ip) => ({ port: p.id, label: `${names.get(p.device_id)}: ${ip.ip_address}` })),
    );
  const [port, setPort] = useState("");
  const [touched, setTouched] = useState(false);
  const save = useMutation({
    mutationFn: () => r.associateFloatingIp(fip.id, port),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="assoc-title">
      <ModalHeader title={`Associate ${fip.floating_ip_address}`} labelId="assoc-title" />
      <ModalBody>
        <ErrorAlert error={save.error} title="The cloud refused the association" />
        <Form
          id="assoc-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            setTouched(true);
            if (port) save.mutate();
          }}
        >
          <FormGroup label="Instance address" fieldId="assoc-port" isRequired>
            <FormSelect
              id="assoc-port"
              value={port}
              onChange={(_e, v) => setPort(v)}
              validated={touched && !port ? "error" : "default"}
            >
              <FormSelectOption
                value=""
                label={
                  ports.isLoading
                    ? "Loading..."
                    : targets.length
                      ? "Choose an instance"
                      : "No instance with an address"
                }
                isPlaceholder
              />
              {targets.map((t) => (
                <FormSelectOption key={t.port + t.label} value={t.port} label={t.label} />
              ))}
            </FormSelect>
            {touched && !port && (
              <HelperText>
                <HelperTextItem variant="error">Choose the instance to associate.</HelperTextItem>
              </HelperText>
            )}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="assoc-form" isLoading={save.isPending} isDisabled={save.isPending}>
          Associate
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The Floating IPs page. */
export default function FloatingIps() {
  const { r, session } = useApi();
  const qc = useQueryClient();
  const key = ["fips", session.project.id];
  const fips = useQuery({ queryKey: key, queryFn: r.floatingIps, refetchInterval: 5000 });
  const ports = useQuery({ queryKey: ["ports", session.project.id], queryFn: () => r.ports() });
  const servers = useQuery({ queryKey: ["servers", session.project.id], queryFn: r.servers });
  const device = new Map((ports.data ?? []).map((p) => [p.id, p.device_id]));
  const names = new Map((servers.data ?? []).map((s) => [s.id, s.name]));
  const [allocating, setAllocating] = useState(false);
  const [associating, setAssociating] = useState<FloatingIp | null>(null);
  const [releasing, setReleasing] = useState<FloatingIp | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: key });
  const disassociate = useMutation({
    mutationFn: (id: string) => r.associateFloatingIp(id, null),
    onSettled: refresh,
  });
  const release = useMutation({ mutationFn: r.releaseFloatingIp, onSettled: refresh });
  const target = (f: FloatingIp) => {
    if (!f.port_id) return "-";
    const d = device.get(f.port_id);
    return `${(d && names.get(d)) ?? f.port_id}${f.fixed_ip_address ? ` (${f.fixed_ip_address})` : ""}`;
  };
  return (
    <>
      <PageTitle title="Floating IPs">
        <Button onClick={() => setAllocating(true)}>Allocate IP to Project</Button>
      </PageTitle>
      {(disassociate.error || release.error) && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={disassociate.error ?? release.error} />
        </div>
      )}
      <ResourceTable<FloatingIp>
        label="floating IPs"
        rows={fips.data}
        loading={fips.isLoading}
        error={fips.error}
        rowKey={(f) => f.id}
        filterText={(f) => `${f.floating_ip_address} ${f.fixed_ip_address ?? ""} ${f.status} ${target(f)}`}
        empty="Allocate a floating IP to reach an instance from outside."
        columns={[
          { title: "IP Address", cell: (f) => f.floating_ip_address },
          { title: "Mapped Fixed IP Address", cell: target },
          { title: "Status", cell: (f) => f.status },
        ]}
        actions={(f) => (
          <>
            {f.port_id ? (
              <Button
                size="sm"
                variant="secondary"
                onClick={() => disassociate.mutate(f.id)}
                aria-label={`Disassociate ${f.floating_ip_address}`}
              >
                Disassociate
              </Button>
            ) : (
              <Button
                size="sm"
                onClick={() => setAssociating(f)}
                aria-label={`Associate ${f.floating_ip_address}`}
              >
                Associate
              </Button>
            )}
            <Button
              size="sm"
              variant="danger"
              onClick={() => setReleasing(f)}
              aria-label={`Release ${f.floating_ip_address}`}
            >
              Release
            </Button>
          </>
        )}
      />
      <Confirm
        open={!!releasing}
        title="Release floating IP?"
        body={<>The address {releasing?.floating_ip_address} goes back to the pool.</>}
        action="Release"
        onClose={() => setReleasing(null)}
        onConfirm={() => {
          if (releasing) release.mutate(releasing.id);
          setReleasing(null);
        }}
      />
      {allocating && <Allocate onClose={() => setAllocating(false)} onDone={() => void refresh()} />}
      {associating && (
        <Associate
          fip={associating}
          onClose={() => setAssociating(null)}
          onDone={() => void Promise.all([refresh(), qc.invalidateQueries({ queryKey: ["servers"] })])}
        />
      )}
    </>
  );
}
