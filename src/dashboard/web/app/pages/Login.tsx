// The login page: domain, user name and password; Horizon's field names (id_username, id_password, region,
// domain, csrfmiddlewaretoken) so that scripts written for Horizon's form find them.
import { useState, type FormEvent } from "react";
import {
  ActionGroup,
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Form,
  FormGroup,
  HelperText,
  HelperTextItem,
  TextInput,
} from "../pf.js";
import { navigate, useLocation } from "../router.js";
import { useSession } from "../session.js";

/** The login form. */
export function Login() {
  const s = useSession();
  const { search } = useLocation();
  const [domain, setDomain] = useState("Default");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reason = search.get("reason");
  const missing = { domain: !domain.trim(), user: !user.trim(), password: !password };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (missing.domain || missing.user || missing.password) return;
    setBusy(true);
    setError(null);
    try {
      await s.login(domain.trim(), user.trim(), password);
      const next = search.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/project/", true);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  const v = (bad: boolean) => (touched && bad ? "error" : "default");
  return (
    <main
      style={{
        minHeight: "100vh",
        display: "grid",
        placeItems: "center",
        padding: "1rem",
        background: "var(--pf-t--global--background--color--secondary--default)",
      }}
    >
      <Card style={{ width: "min(28rem, 100%)" }}>
        <CardTitle component="h1">
          <span style={{ fontSize: "1.5rem" }}>Log in to Stratus</span>
        </CardTitle>
        <CardBody>
          {reason === "expired" && (
            <Alert
              variant="info"
              isInline
              title="Your session has ended; log in again to continue."
              style={{ marginBottom: "1rem" }}
            />
          )}
          {error && (
            <Alert variant="danger" isInline title={error} role="alert" style={{ marginBottom: "1rem" }} />
          )}
          <Form onSubmit={submit} noValidate aria-label="Log in">
            <input type="hidden" name="region" value="RegionOne" />
            <FormGroup label="Domain" fieldId="id_domain" isRequired>
              <TextInput
                id="id_domain"
                name="domain"
                value={domain}
                onChange={(_e, v) => setDomain(v)}
                validated={v(missing.domain)}
                isRequired
                autoComplete="off"
              />
            </FormGroup>
            <FormGroup label="User name" fieldId="id_username" isRequired>
              <TextInput
                id="id_username"
                name="username"
                value={user}
                onChange={(_e, v) => setUser(v)}
                validated={v(missing.user)}
                isRequired
                autoComplete="username"
                autoFocus
              />
              {touched && missing.user && (
                <HelperText>
                  <HelperTextItem variant="error">Enter your user name.</HelperTextItem>
                </HelperText>
              )}
            </FormGroup>
            <FormGroup label="Password" fieldId="id_password" isRequired>
              <TextInput
                id="id_password"
                name="password"
                type="password"
                value={password}
                onChange={(_e, v) => setPassword(v)}
                validated={v(missing.password)}
                isRequired
                autoComplete="current-password"
              />
              {touched && missing.password && (
                <HelperText>
                  <HelperTextItem variant="error">Enter your password.</HelperTextItem>
                </HelperText>
              )}
            </FormGroup>
            <ActionGroup>
              <Button type="submit" variant="primary" isBlock isLoading={busy} isDisabled={busy}>
                Log in
              </Button>
            </ActionGroup>
          </Form>
        </CardBody>
      </Card>
    </main>
  );
}
