// Errors of the qemu driver's building blocks (QMP protocol errors live in qmp.ts). The driver maps them to the
// VirtDriver errors (errors.ts one level up) and to Nova's faults.

/** Base class of the qemu building blocks' errors. */
export class QemuError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The image's virtual size exceeds the flavor's root disk (Nova's FlavorDiskSmallerThanImage). */
export class ImageLargerThanFlavorDisk extends QemuError {
  constructor(
    readonly imageId: string,
    readonly virtualSizeBytes: number,
    readonly rootGb: number,
  ) {
    super(
      `Flavor's disk is too small for requested image. Flavor disk is ${rootGb * 1024 ** 3} bytes, image ${imageId} is ${virtualSizeBytes} bytes.`,
    );
  }
}

/** Downloaded image bytes do not hash to the image's os_hash_value. */
export class ImageHashMismatch extends QemuError {
  constructor(
    readonly imageId: string,
    readonly algorithm: string,
  ) {
    super(`Image ${imageId}: downloaded data does not match its ${algorithm} os_hash_value`);
  }
}

/** The image is not safe or not usable as a base (wrong format, backing file, data file, unsupported format). */
export class ImageUnusable extends QemuError {
  constructor(
    readonly imageId: string,
    readonly reason: string,
  ) {
    super(`Image ${imageId} cannot be used: ${reason}`);
  }
}

/** A spec for the QEMU command line or a disk is malformed (caught before anything runs). */
export class InvalidQemuSpec extends QemuError {}

/** QEMU failed to start (bad arguments, missing files, QMP never came up); stderr is kept for the log. */
export class QemuStartFailed extends QemuError {
  constructor(
    message: string,
    readonly stderr = "",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The pidfile names a process that is not this instance's QEMU (gone, reused pid, or another program). */
export class NotOurQemu extends QemuError {}
