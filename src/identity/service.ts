import { join } from "node:path";
import type { Logger } from "pino";
import type { AuthContext, TokenValidator } from "../shared/auth/context.js";
import type { Config } from "../shared/config.js";
import type { Bus, ServerHandle } from "../shared/bus/index.js";
import { migrate, type Database } from "../shared/db/index.js";
import { ApiError } from "../shared/http/errors.js";
import type { ServiceApi } from "../shared/http/service.js";
import { identityRoutes } from "./api/index.js";
import { IdentityCore } from "./core.js";
import { formatIdentityError } from "./errors.js";
import { identityMigrations } from "./migrations.js";
import { identityEventsContract } from "./rpc.js";
import { PasswordHasher } from "./passwords.js";
import { RevocationList } from "./store/revocations.js";
import type { IdentityDb } from "./tables.js";
import { KeyRepository, TokenCodec } from "./tokens/index.js";
import { InvalidToken, TokenService } from "./tokens/service.js";

/** The Identity service (Keystone v3): its state, token service, and HTTP face. */
export class IdentityService {
  readonly core: IdentityCore;
  readonly keys: KeyRepository;
  readonly revocations: RevocationList;
  readonly tokens: TokenService;
  private listener: ServerHandle | null = null;

  private constructor(db: Database, cfg: Config, log: Logger) {
    this.core = new IdentityCore(
      db.kysely as IdentityDb,
      db.engine,
      cfg,
      new PasswordHasher(cfg.identity.passwordHashCost),
      log,
    );
    this.keys = new KeyRepository(join(cfg.dataDir, "fernet-keys"));
    this.revocations = new RevocationList(this.core);
    this.tokens = new TokenService(this.core, new TokenCodec(this.keys), this.revocations);
  }

  /** Migrate identity's tables, set up token keys and load revocation events. */
  static async start(db: Database, cfg: Config, log: Logger): Promise<IdentityService> {
    await migrate(db, "identity", identityMigrations);
    const svc = new IdentityService(db, cfg, log);
    await svc.keys.init();
    await svc.revocations.refresh();
    await svc.revocations.prune(cfg.identity.tokenExpiration * 1000);
    svc.revocations.startPolling((cfg.identity.revocationPollInterval ?? 1) * 1000);
    return svc;
  }

  /**
   * Share revocations with the other processes on `bus`: fan out every event recorded here, and load the events
   * others fan out (so every process's validation caches are cleared within moments, not at the next poll).
   */
  async listen(bus: Bus, processName: string): Promise<void> {
    const log = this.core.log;
    this.revocations.onAdded = (seq) =>
      void bus
        .fanout(identityEventsContract, "revoked", { seq })
        .catch((err: unknown) =>
          log.warn({ err }, "identity: fanning out a revocation failed; the poll covers it"),
        );
    this.listener = await bus.serve(
      identityEventsContract,
      processName,
      { revoked: () => this.revocations.refresh() },
      { fanoutOnly: true },
    );
  }

  /** Stop the revocation poll and the bus listener. */
  async close(): Promise<void> {
    this.revocations.stopPolling();
    this.revocations.onAdded = null;
    await this.listener?.stop();
    this.listener = null;
  }

  /** In-process token validation for the other services (invalid tokens are 401 there). */
  readonly validator: TokenValidator = {
    validate: async (token: string): Promise<AuthContext> => {
      try {
        return (await this.tokens.validate(token)).ctx;
      } catch (e) {
        if (e instanceof InvalidToken)
          throw new ApiError(401, "The request you have made requires authentication.");
        throw e;
      }
    },
  };

  /** The HTTP API mounted at /identity. */
  api(): ServiceApi {
    return {
      name: "identity",
      serviceType: "identity",
      prefix: "/identity",
      routes: identityRoutes(this),
      formatError: formatIdentityError,
      badMediaType: () => new ApiError(400, "Expecting to find application/json in Content-Type header."),
    };
  }
}
