// Messages between the hash pool (hashing.ts) and its worker threads (hash-worker.ts).

/** Main thread → worker: start a job over a shared ring, hash one filled slot, finish, or drop it. */
export type ToWorker =
  | { op: "open"; job: number; algo: string; ring: SharedArrayBuffer }
  | { op: "update"; job: number; slot: number; offset: number; length: number }
  | { op: "digest"; job: number }
  | { op: "drop"; job: number };

/** Worker → main thread: a slot is hashed (may be reused), the final digest, or a failure. */
export type FromWorker =
  | { op: "ack"; job: number; slot: number }
  | { op: "digest"; job: number; hex: string }
  | { op: "error"; job: number; message: string };
