// An instance's action menu (pause, suspend, resize and its confirm/revert, snapshot, rebuild, rescue, lock,
// shelve, reboots), each item enabled only in the states Nova accepts it in, with the dialogs that take input.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  Dropdown,
  DropdownItem,
  DropdownList,
} from "@patternfly/react-core/dist/esm/components/Dropdown/index.js";
import { MenuToggle } from "@patternfly/react-core/dist/esm/components/MenuToggle/index.js";
import { actionAllowed, needsInput, type ServerAction } from "../../api/server-actions.js";
import type { Server } from "../../api/resources.js";
import { useServerActionCalls } from "../action-calls.js";
import { Confirm } from "../ui.js";
import { RebuildDialog, RescueDialog, ResizeDialog, SnapshotDialog } from "./ServerActionDialogs.js";

/** The menu's items in order: action and label. */
const ITEMS: Array<[ServerAction, string]> = [
  ["pause", "Pause"],
  ["unpause", "Unpause"],
  ["suspend", "Suspend"],
  ["resume", "Resume"],
  ["resize", "Resize"],
  ["confirmResize", "Confirm resize"],
  ["revertResize", "Revert resize"],
  ["createImage", "Create snapshot"],
  ["rebuild", "Rebuild"],
  ["rescue", "Rescue"],
  ["unrescue", "Unrescue"],
  ["lock", "Lock"],
  ["unlock", "Unlock"],
  ["shelve", "Shelve"],
  ["unshelve", "Unshelve"],
  ["softReboot", "Soft reboot"],
  ["hardReboot", "Hard reboot"],
];

/** Actions confirmed before they are sent. */
const CONFIRM: ReadonlyMap<ServerAction, string> = new Map([
  ["hardReboot", "The instance is powered off and on at once: unsaved data in the guest is lost."],
  ["shelve", "The instance is snapshotted and leaves its host until it is unshelved."],
  ["revertResize", "The instance goes back to its old flavor; changes made since the resize are lost."],
]);

/** Refresh every query showing the server (lists, detail, action log) after an action. */
export function useServerRefresh(id: string) {
  const qc = useQueryClient();
  const { project } = useServerActionCalls();
  return () => {
    void qc.invalidateQueries({ queryKey: ["servers", project] });
    void qc.invalidateQueries({ queryKey: ["server", id] });
    void qc.invalidateQueries({ queryKey: ["server-actions", id] });
  };
}

/** The "Actions" menu of one server; `onError` shows a refusal where the page shows errors. */
export function ServerActionsMenu({ server, onError }: { server: Server; onError(e: unknown): void }) {
  const { sa } = useServerActionCalls();
  const refresh = useServerRefresh(server.id);
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState<ServerAction | null>(null);
  const run = useMutation({
    mutationFn: (a: ServerAction) => sa.simple(server.id, a),
    onError,
    onSettled: refresh,
  });
  const choose = (a: ServerAction) => {
    setOpen(false);
    if (needsInput(a) || CONFIRM.has(a)) setDialog(a);
    else {
      onError(null);
      run.mutate(a);
    }
  };
  const close = () => setDialog(null);
  const done = () => (refresh(), onError(null));
  const label = ITEMS.find(([a]) => a === dialog)?.[1] ?? "";
  return (
    <>
      <Dropdown
        isOpen={open}
        onOpenChange={setOpen}
        onSelect={() => setOpen(false)}
        popperProps={{ position: "right", appendTo: () => document.body }}
        toggle={(ref) => (
          <MenuToggle
            ref={ref}
            size="sm"
            onClick={() => setOpen(!open)}
            isExpanded={open}
            aria-label={`More actions for ${server.name}`}
          >
            More
          </MenuToggle>
        )}
      >
        <DropdownList>
          {ITEMS.map(([a, text]) => (
            <DropdownItem
              key={a}
              value={a}
              isDisabled={!actionAllowed(a, server)}
              onClick={() => choose(a)}
              data-action={a}
            >
              {text}
            </DropdownItem>
          ))}
        </DropdownList>
      </Dropdown>
      {dialog && CONFIRM.has(dialog) && (
        <Confirm
          open
          title={`${label} ${server.name}?`}
          body={CONFIRM.get(dialog)}
          action={label}
          onClose={close}
          onConfirm={() => {
            run.mutate(dialog);
            close();
          }}
        />
      )}
      {dialog === "resize" && <ResizeDialog server={server} onClose={close} onDone={done} />}
      {dialog === "createImage" && <SnapshotDialog server={server} onClose={close} onDone={done} />}
      {dialog === "rebuild" && <RebuildDialog server={server} onClose={close} onDone={done} />}
      {dialog === "rescue" && <RescueDialog server={server} onClose={close} onDone={done} />}
    </>
  );
}
