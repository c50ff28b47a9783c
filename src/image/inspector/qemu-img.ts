// The qemu-img wrapper moved to src/shared/qemu-img.ts (the qemu virt driver uses it too); kept for old imports.
export * from "../../shared/qemu-img.js";
