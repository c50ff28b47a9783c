// An instance's VNC console in the page: a one-use console URL from the remote-consoles API, and noVNC's RFB module
// (served by the cloud under /vnc, loaded only when the console is opened) drawing the screen over its WebSocket.
import { useEffect, useRef, useState } from "react";
import { consoleSocket } from "../../api/server-actions.js";
import { useServerActionCalls } from "../action-calls.js";
import { Button } from "../pf.js";
import { ErrorAlert } from "../ui.js";

/** noVNC's module, as the cloud serves it (kept out of the dashboard's bundle). */
const RFB_MODULE = "/vnc/core/rfb.js";

/** The part of noVNC's RFB object the page uses. */
interface Rfb extends EventTarget {
  scaleViewport: boolean;
  resizeSession: boolean;
  disconnect(): void;
  sendCtrlAltDel(): void;
}

type State = "idle" | "connecting" | "connected" | "disconnected";

/** The console of server `id`: Connect opens it in the page, Disconnect (or leaving the page) closes it. */
export function VncConsole({ id, available }: { id: string; available: boolean }) {
  const { sa } = useServerActionCalls();
  const screen = useRef<HTMLDivElement>(null);
  const rfb = useRef<Rfb | null>(null);
  const [state, setState] = useState<State>("idle");
  const [error, setError] = useState<unknown>(null);
  useEffect(() => () => rfb.current?.disconnect(), []);
  const connect = async () => {
    setError(null);
    setState("connecting");
    try {
      const url = await sa.vncConsole(id);
      const mod = (await import(/* @vite-ignore */ RFB_MODULE)) as {
        default: new (el: HTMLElement, url: string) => Rfb;
      };
      if (!screen.current) return;
      const r = new mod.default(screen.current, consoleSocket(url, location));
      r.scaleViewport = true;
      r.resizeSession = false;
      r.addEventListener("connect", () => setState("connected"));
      r.addEventListener("disconnect", () => {
        setState("disconnected");
        rfb.current = null;
      });
      rfb.current = r;
    } catch (e) {
      setError(e);
      setState("idle");
    }
  };
  const label =
    state === "connected"
      ? "Connected"
      : state === "connecting"
        ? "Connecting..."
        : state === "disconnected"
          ? "Disconnected"
          : "Not connected";
  return (
    <>
      <div style={{ display: "flex", gap: ".5rem", alignItems: "center", flexWrap: "wrap" }}>
        {state === "connected" || state === "connecting" ? (
          <>
            <Button size="sm" variant="secondary" onClick={() => rfb.current?.disconnect()}>
              Disconnect
            </Button>
            <Button
              size="sm"
              variant="secondary"
              isDisabled={state !== "connected"}
              onClick={() => rfb.current?.sendCtrlAltDel()}
            >
              Send Ctrl-Alt-Del
            </Button>
          </>
        ) : (
          <Button size="sm" onClick={() => void connect()} isDisabled={!available}>
            Connect
          </Button>
        )}
        <span role="status" data-testid="vnc-status" data-state={state}>
          {label}
        </span>
      </div>
      <ErrorAlert error={error} title="Could not open the console" />
      {!available && <p>The console is available while the instance is running.</p>}
      <div
        ref={screen}
        data-testid="vnc-screen"
        aria-label="Instance console screen"
        role="application"
        style={{
          marginTop: ".5rem",
          height: state === "idle" ? 0 : "480px",
          maxWidth: "100%",
          background: "#222",
          overflow: "hidden",
        }}
      />
    </>
  );
}
