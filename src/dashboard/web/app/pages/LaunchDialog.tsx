// The Launch Instance dialog: name, boot source (image, snapshot, volume, new volume), flavor with hints of what
// fits the remaining quota, networks, key pair, security groups, user data and count, validated before it is
// sent; the API's own message is shown when the server refuses.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  Button,
  Checkbox,
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
  NumberInput,
  TextInput,
} from "../pf.js";
import { useApi } from "../session.js";
import { ErrorAlert } from "../ui.js";
import { encodeUserData, useLaunchSource, userDataError, UserDataField } from "./LaunchSource.js";

/** Inline error text under a field. */
function FieldError({ msg }: { msg?: string }) {
  if (!msg) return null;
  return (
    <HelperText>
      <HelperTextItem variant="error">{msg}</HelperTextItem>
    </HelperText>
  );
}

/** The dialog. */
export function LaunchDialog({ onClose, onLaunched }: { onClose(): void; onLaunched(): void }) {
  const { r, session } = useApi();
  const pid = session.project.id;
  const flavors = useQuery({ queryKey: ["flavors"], queryFn: r.flavors });
  const networks = useQuery({ queryKey: ["networks", pid], queryFn: r.networks });
  const keypairs = useQuery({ queryKey: ["keypairs", pid], queryFn: r.keypairs });
  const groups = useQuery({ queryKey: ["secgroups", pid], queryFn: r.securityGroups });
  const limits = useQuery({ queryKey: ["limits", pid], queryFn: r.limits });
  const [name, setName] = useState("");
  const source = useLaunchSource();
  const [userData, setUserData] = useState("");
  const [flavor, setFlavor] = useState("");
  const [nets, setNets] = useState<string[]>([]);
  const [key, setKey] = useState("");
  const [sgs, setSgs] = useState<string[]>(["default"]);
  const [count, setCount] = useState(1);
  const [touched, setTouched] = useState(false);
  const launch = useMutation({ mutationFn: r.launch, onSuccess: () => (onLaunched(), onClose()) });

  const l = limits.data;
  const room =
    l && l.maxTotalInstances >= 0 ? Math.max(0, l.maxTotalInstances - (l.totalInstancesUsed ?? 0)) : 100;
  const chosenFlavor = (flavors.data ?? []).find((f) => f.id === flavor);
  const errors: Record<string, string | undefined> = {
    name: !name.trim() ? "Enter a name." : name.length > 255 ? "At most 255 characters." : undefined,
    ...source.errors,
    userData: userDataError(userData),
    flavor: !flavor ? "Choose a flavor." : undefined,
    count:
      !Number.isInteger(count) || count < 1
        ? "At least 1."
        : count > Math.min(room, 100)
          ? `The quota leaves room for ${room}.`
          : undefined,
  };
  const valid = Object.values(errors).every((e) => !e);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!valid) return;
    launch.mutate({
      name: name.trim(),
      ...source.request(),
      user_data: userData ? encodeUserData(userData) : undefined,
      flavorRef: flavor,
      networks: nets,
      key_name: key || undefined,
      security_groups: sgs,
      count,
    });
  };
  const err = (k: string) => (touched ? errors[k] : undefined);
  const toggle = (list: string[], v: string, on: boolean) =>
    on ? [...list, v] : list.filter((x) => x !== v);
  /** What the quota leaves of a limit (-1: unlimited). */
  const left = (max: number | undefined, used: number | undefined) =>
    max === undefined || max < 0 ? Infinity : Math.max(0, max - (used ?? 0));
  const cores = l ? left(l.maxTotalCores, l.totalCoresUsed) : Infinity;
  const ramLeft = l ? left(l.maxTotalRAMSize, l.totalRAMUsed) : Infinity;
  const fitHint = (f: { vcpus: number; ram: number }) => {
    if (!l) return "";
    return f.vcpus * count > cores || f.ram * count > ramLeft ? " - exceeds quota" : " - fits quota";
  };
  const quotaLeft = l
    ? `Quota left: ${room} instances, ${cores === Infinity ? "unlimited" : cores} VCPUs, ${
        ramLeft === Infinity ? "unlimited" : ramLeft
      } MiB RAM.`
    : "";
  return (
    <Modal variant="medium" isOpen onClose={onClose} aria-labelledby="launch-title">
      <ModalHeader title="Launch Instance" labelId="launch-title" />
      <ModalBody>
        <ErrorAlert error={launch.error} title="The cloud refused the launch" />
        <Form id="launch-form" onSubmit={submit} noValidate>
          <FormGroup label="Instance name" fieldId="launch-name" isRequired>
            <TextInput
              id="launch-name"
              value={name}
              onChange={(_e, v) => setName(v)}
              validated={err("name") ? "error" : "default"}
              isRequired
            />
            <FieldError msg={err("name")} />
          </FormGroup>
          {source.fields(touched)}
          <FormGroup label="Flavor" fieldId="launch-flavor" isRequired>
            <FormSelect
              id="launch-flavor"
              value={flavor}
              onChange={(_e, v) => setFlavor(v)}
              validated={err("flavor") ? "error" : "default"}
            >
              <FormSelectOption
                value=""
                label={flavors.isLoading ? "Loading..." : "Choose a flavor"}
                isPlaceholder
              />
              {(flavors.data ?? []).map((f) => (
                <FormSelectOption
                  key={f.id}
                  value={f.id}
                  label={`${f.name} (${f.vcpus} VCPU, ${f.ram} MiB RAM, ${f.disk} GiB disk)${fitHint(f)}`}
                />
              ))}
            </FormSelect>
            <FieldError msg={err("flavor")} />
            {quotaLeft && (
              <HelperText id="launch-quota-left">
                <HelperTextItem>{quotaLeft}</HelperTextItem>
              </HelperText>
            )}
            {chosenFlavor && fitHint(chosenFlavor) && (
              <HelperText>
                <HelperTextItem variant="warning">
                  This flavor does not fit in the remaining quota.
                </HelperTextItem>
              </HelperText>
            )}
          </FormGroup>
          <FormGroup label="Networks" fieldId="launch-networks" role="group">
            {(networks.data ?? []).filter((n) => !n["router:external"] || n.shared).length === 0 && (
              <span>No network: the cloud picks one if it can.</span>
            )}
            {(networks.data ?? [])
              .filter((n) => !n["router:external"] || n.shared)
              .map((n) => (
                <Checkbox
                  key={n.id}
                  id={`net-${n.id}`}
                  label={n.name || n.id}
                  isChecked={nets.includes(n.id)}
                  onChange={(_e, on) => setNets(toggle(nets, n.id, on))}
                />
              ))}
          </FormGroup>
          <FormGroup label="Key pair" fieldId="launch-key">
            <FormSelect id="launch-key" value={key} onChange={(_e, v) => setKey(v)}>
              <FormSelectOption value="" label="None" />
              {(keypairs.data ?? []).map((k) => (
                <FormSelectOption key={k.name} value={k.name} label={k.name} />
              ))}
            </FormSelect>
          </FormGroup>
          <FormGroup label="Security groups" fieldId="launch-sgs" role="group">
            {(groups.data ?? []).map((g) => (
              <Checkbox
                key={g.id}
                id={`sg-${g.id}`}
                label={g.name}
                isChecked={sgs.includes(g.name)}
                onChange={(_e, on) => setSgs(toggle(sgs, g.name, on))}
              />
            ))}
          </FormGroup>
          <UserDataField value={userData} onChange={setUserData} shown={touched} />
          <FormGroup label="Count" fieldId="launch-count">
            <NumberInput
              id="launch-count"
              value={count}
              min={1}
              max={100}
              onMinus={() => setCount(Math.max(1, count - 1))}
              onPlus={() => setCount(count + 1)}
              onChange={(e) => setCount(Number((e.target as HTMLInputElement).value))}
              inputAriaLabel="Count"
              minusBtnAriaLabel="Fewer"
              plusBtnAriaLabel="More"
            />
            <FieldError msg={err("count")} />
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="launch-form" isLoading={launch.isPending} isDisabled={launch.isPending}>
          Launch
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}
