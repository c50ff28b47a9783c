// Security groups: list, create, delete, and a rule editor with presets (SSH, ICMP, HTTP, HTTPS) or custom rules.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { SecurityGroup, SecurityGroupRule } from "../../api/resources.js";
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
  PageSection,
  TextInput,
} from "../pf.js";
import { useApi } from "../session.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../ui.js";
import { validCidr } from "./Networks.js";

/** Rule presets: protocol and port range. */
const PRESETS = new Map<string, { protocol: string; min?: number; max?: number }>([
  ["ssh", { protocol: "tcp", min: 22, max: 22 }],
  ["icmp", { protocol: "icmp" }],
  ["http", { protocol: "tcp", min: 80, max: 80 }],
  ["https", { protocol: "tcp", min: 443, max: 443 }],
  ["custom-tcp", { protocol: "tcp" }],
  ["custom-udp", { protocol: "udp" }],
]);

/** A rule in one line. */
function describeRule(r: SecurityGroupRule): string {
  const proto = r.protocol ?? "any";
  const ports =
    r.port_range_min === null
      ? ""
      : r.port_range_min === r.port_range_max
        ? ` port ${r.port_range_min}`
        : ` ports ${r.port_range_min}-${r.port_range_max}`;
  const remote =
    r.remote_ip_prefix ?? (r.remote_group_id ? `group ${r.remote_group_id.slice(0, 8)}` : "anywhere");
  return `${r.direction} ${r.ethertype} ${proto}${ports} ${r.direction === "ingress" ? "from" : "to"} ${remote}`;
}

/** The add-rule dialog. */
function AddRule({ group, onClose, onDone }: { group: SecurityGroup; onClose(): void; onDone(): void }) {
  const { r } = useApi();
  const [preset, setPreset] = useState("ssh");
  const [direction, setDirection] = useState<"ingress" | "egress">("ingress");
  const [minPort, setMinPort] = useState("");
  const [maxPort, setMaxPort] = useState("");
  const [cidr, setCidr] = useState("0.0.0.0/0");
  const [touched, setTouched] = useState(false);
  const p = PRESETS.get(preset)!;
  const custom = preset.startsWith("custom");
  const port = (s: string) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;
  const errors = {
    min: custom && !port(minPort) ? "A port from 1 to 65535." : undefined,
    max:
      custom && maxPort && (!port(maxPort) || Number(maxPort) < Number(minPort))
        ? "A port from the first port to 65535."
        : undefined,
    cidr: validCidr(cidr.trim()) ? undefined : "Enter a CIDR such as 0.0.0.0/0.",
  };
  const save = useMutation({
    mutationFn: () => {
      const min = custom ? Number(minPort) : p.min;
      const max = custom ? Number(maxPort || minPort) : p.max;
      const c = cidr.trim();
      return r.addRule(group.id, {
        direction,
        protocol: p.protocol === "icmp" && c.includes(":") ? "ipv6-icmp" : p.protocol,
        ethertype: c.includes(":") ? "IPv6" : "IPv4",
        remote_ip_prefix: c,
        ...(min !== undefined ? { port_range_min: min, port_range_max: max ?? min } : {}),
      });
    },
    onSuccess: () => (onDone(), onClose()),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!Object.values(errors).some(Boolean)) save.mutate();
  };
  const err = (msg?: string) =>
    touched && msg ? (
      <HelperText>
        <HelperTextItem variant="error">{msg}</HelperTextItem>
      </HelperText>
    ) : null;
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="rule-title">
      <ModalHeader title={`Add Rule to ${group.name}`} labelId="rule-title" />
      <ModalBody>
        <ErrorAlert error={save.error} title="The cloud refused the rule" />
        <Form id="rule-form" onSubmit={submit} noValidate>
          <FormGroup label="Rule" fieldId="rule-preset">
            <FormSelect id="rule-preset" value={preset} onChange={(_e, v) => setPreset(v)}>
              <FormSelectOption value="ssh" label="SSH (TCP 22)" />
              <FormSelectOption value="icmp" label="All ICMP" />
              <FormSelectOption value="http" label="HTTP (TCP 80)" />
              <FormSelectOption value="https" label="HTTPS (TCP 443)" />
              <FormSelectOption value="custom-tcp" label="Custom TCP rule" />
              <FormSelectOption value="custom-udp" label="Custom UDP rule" />
            </FormSelect>
          </FormGroup>
          <FormGroup label="Direction" fieldId="rule-direction">
            <FormSelect
              id="rule-direction"
              value={direction}
              onChange={(_e, v) => setDirection(v as "ingress" | "egress")}
            >
              <FormSelectOption value="ingress" label="Ingress" />
              <FormSelectOption value="egress" label="Egress" />
            </FormSelect>
          </FormGroup>
          {custom && (
            <>
              <FormGroup label="Port (or first port)" fieldId="rule-min" isRequired>
                <TextInput
                  id="rule-min"
                  value={minPort}
                  onChange={(_e, v) => setMinPort(v)}
                  validated={touched && errors.min ? "error" : "default"}
                />
                {err(errors.min)}
              </FormGroup>
              <FormGroup label="Last port (optional)" fieldId="rule-max">
                <TextInput
                  id="rule-max"
                  value={maxPort}
                  onChange={(_e, v) => setMaxPort(v)}
                  validated={touched && errors.max ? "error" : "default"}
                />
                {err(errors.max)}
              </FormGroup>
            </>
          )}
          <FormGroup label="Remote CIDR" fieldId="rule-cidr">
            <TextInput
              id="rule-cidr"
              value={cidr}
              onChange={(_e, v) => setCidr(v)}
              validated={touched && errors.cidr ? "error" : "default"}
            />
            {err(errors.cidr)}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="rule-form" isLoading={save.isPending} isDisabled={save.isPending}>
          Add
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The create-group dialog. */
function CreateGroup({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { r } = useApi();
  const [name, setName] = useState("");
  const [desc, setDesc] = useState("");
  const [touched, setTouched] = useState(false);
  const bad = !name.trim() || name.length > 255 ? "Enter a name (at most 255 characters)." : undefined;
  const save = useMutation({
    mutationFn: () => r.createSecurityGroup(name.trim(), desc),
    onSuccess: () => (onDone(), onClose()),
  });
  return (
    <Modal variant="small" isOpen onClose={onClose} aria-labelledby="sg-title">
      <ModalHeader title="Create Security Group" labelId="sg-title" />
      <ModalBody>
        <ErrorAlert error={save.error} title="The cloud refused the security group" />
        <Form
          id="sg-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            setTouched(true);
            if (!bad) save.mutate();
          }}
        >
          <FormGroup label="Name" fieldId="sg-name" isRequired>
            <TextInput
              id="sg-name"
              value={name}
              onChange={(_e, v) => setName(v)}
              validated={touched && bad ? "error" : "default"}
            />
            {touched && bad && (
              <HelperText>
                <HelperTextItem variant="error">{bad}</HelperTextItem>
              </HelperText>
            )}
          </FormGroup>
          <FormGroup label="Description" fieldId="sg-desc">
            <TextInput id="sg-desc" value={desc} onChange={(_e, v) => setDesc(v)} />
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="sg-form" isLoading={save.isPending}>
          Create
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The Security Groups page. */
export default function SecurityGroups() {
  const { r, session } = useApi();
  const qc = useQueryClient();
  const key = ["secgroups", session.project.id];
  const groups = useQuery({ queryKey: key, queryFn: r.securityGroups });
  const [adding, setAdding] = useState<SecurityGroup | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<SecurityGroup | null>(null);
  const [deletingRule, setDeletingRule] = useState<SecurityGroupRule | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: key });
  const delRule = useMutation({ mutationFn: r.deleteRule, onSettled: refresh });
  const delGroup = useMutation({ mutationFn: r.deleteSecurityGroup, onSettled: refresh });
  return (
    <>
      <PageTitle title="Security Groups">
        <Button onClick={() => setCreating(true)}>Create Security Group</Button>
      </PageTitle>
      {(delRule.error || delGroup.error) && (
        <PageSection>
          <ErrorAlert error={delRule.error ?? delGroup.error} />
        </PageSection>
      )}
      <ResourceTable<SecurityGroup>
        label="security groups"
        rows={groups.data}
        loading={groups.isLoading}
        error={groups.error}
        rowKey={(g) => g.id}
        filterText={(g) => `${g.name} ${g.description}`}
        empty="Create a security group to control traffic to instances."
        columns={[
          { title: "Name", cell: (g) => g.name },
          { title: "Description", cell: (g) => g.description || "-" },
          {
            title: "Rules",
            cell: (g) => (
              <ul style={{ listStyle: "none", margin: 0, padding: 0 }} aria-label={`Rules of ${g.name}`}>
                {g.security_group_rules.map((rule) => (
                  <li
                    key={rule.id}
                    style={{ display: "flex", gap: ".5rem", alignItems: "center" }}
                    data-rule={describeRule(rule)}
                  >
                    <span>{describeRule(rule)}</span>
                    <Button
                      variant="link"
                      isDanger
                      size="sm"
                      onClick={() => setDeletingRule(rule)}
                      aria-label={`Delete rule ${describeRule(rule)}`}
                    >
                      Delete
                    </Button>
                  </li>
                ))}
              </ul>
            ),
          },
        ]}
        actions={(g) => (
          <>
            <Button size="sm" onClick={() => setAdding(g)} aria-label={`Add rule to ${g.name}`}>
              Add Rule
            </Button>
            {g.name !== "default" && (
              <Button
                size="sm"
                variant="danger"
                onClick={() => setDeleting(g)}
                aria-label={`Delete ${g.name}`}
              >
                Delete
              </Button>
            )}
          </>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete security group?"
        body={<>The security group {deleting?.name} and its rules are deleted.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) delGroup.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      <Confirm
        open={!!deletingRule}
        title="Delete rule?"
        body={<>The rule &quot;{deletingRule ? describeRule(deletingRule) : ""}&quot; is deleted.</>}
        action="Delete"
        onClose={() => setDeletingRule(null)}
        onConfirm={() => {
          if (deletingRule) delRule.mutate(deletingRule.id);
          setDeletingRule(null);
        }}
      />
      {adding && <AddRule group={adding} onClose={() => setAdding(null)} onDone={() => void refresh()} />}
      {creating && <CreateGroup onClose={() => setCreating(false)} onDone={() => void refresh()} />}
    </>
  );
}
