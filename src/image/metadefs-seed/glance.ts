// Default catalog, image side: common image properties, operating system identification, signatures.
import { choice, str, type SeedNamespace } from "./types.js";

const UUID = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

/** CPU architectures as Nova names them (nova.objects.fields.Architecture). */
const ARCHITECTURES = [
  "aarch64",
  "alpha",
  "armv6",
  "armv7l",
  "armv7b",
  "cris",
  "i686",
  "ia64",
  "lm32",
  "m68k",
  "microblaze",
  "microblazeel",
  "mips",
  "mipsel",
  "mips64",
  "mips64el",
  "openrisc",
  "parisc",
  "parisc64",
  "ppc",
  "ppcle",
  "ppc64",
  "ppc64le",
  "ppcemb",
  "riscv32",
  "riscv64",
  "s390",
  "s390x",
  "sh4",
  "sh4eb",
  "sparc",
  "sparc64",
  "unicore32",
  "x86_64",
  "xtensa",
  "xtensaeb",
];

const OS_DISTRO =
  "Lower-case short name of the distribution, as libosinfo and Nova expect it: ubuntu, debian, fedora, centos, rhel, rocky, almalinux, opensuse, sles, arch, freebsd, openbsd, netbsd, windows, ...";
const OS_VERSION = "Version of the distribution as its vendor writes it (22.04, 12, 9.3, 2022).";

export const glanceNamespaces: SeedNamespace[] = [
  {
    namespace: "OS::Glance::CommonImageProperties",
    display_name: "Common Image Properties",
    description:
      "Properties that any image may carry and that the Image service and its clients understand (Glance adds them to the image schema).",
    visibility: "public",
    protected: true,
    resource_type_associations: [],
    properties: {
      kernel_id: str(
        "Kernel ID",
        "Id of the image holding the kernel for booting this one as a machine image (AMI style).",
        {
          pattern: UUID,
        },
      ),
      ramdisk_id: str(
        "Ramdisk ID",
        "Id of the image holding the initial ramdisk for booting this one (ARI style).",
        {
          pattern: UUID,
        },
      ),
      instance_uuid: str("Instance ID", "For a server snapshot: the id of the server it was taken from."),
      architecture: choice(
        "CPU Architecture",
        "The CPU architecture the image needs; the scheduler places it on hosts that can run it.",
        ARCHITECTURES,
      ),
      os_distro: str("OS Distro", OS_DISTRO),
      os_version: str("OS Version", OS_VERSION),
      description: str("Image Description", "A free-text description of the image."),
    },
  },
  {
    namespace: "OS::OperatingSystem",
    display_name: "Common Operating System Properties",
    description: "Identify the operating system installed on an image or a bootable volume.",
    visibility: "public",
    protected: true,
    resource_type_associations: [
      { name: "OS::Glance::Image" },
      { name: "OS::Cinder::Volume", properties_target: "image" },
    ],
    properties: {
      os_distro: str("OS Distro", OS_DISTRO),
      os_version: str("OS Version", OS_VERSION),
      os_admin_user: str(
        "OS Admin User",
        "The administrator account of the guest (root, Administrator, ...), for tools that set its password.",
      ),
    },
  },
  {
    namespace: "OS::Glance::Signatures",
    display_name: "Image Signature Verification",
    description:
      "Properties of a signed image: the signature of its data, how it was made, and the certificate (kept in the key manager) that verifies it.",
    visibility: "public",
    protected: false,
    resource_type_associations: [{ name: "OS::Glance::Image" }],
    properties: {
      img_signature: str("Image Signature", "Base64 signature of the image data."),
      img_signature_certificate_uuid: str(
        "Image Signature Certificate UUID",
        "Key manager id of the certificate whose public key verifies the signature.",
      ),
      img_signature_hash_method: choice("Image Signature Hash Method", "Hash algorithm used to sign.", [
        "SHA-224",
        "SHA-256",
        "SHA-384",
        "SHA-512",
      ]),
      img_signature_key_type: choice("Image Signature Key Type", "Signature scheme of the signing key.", [
        "RSA-PSS",
        "DSA",
        "ECC_SECT571K1",
        "ECC_SECT409K1",
        "ECC_SECT571R1",
        "ECC_SECT409R1",
        "ECC_SECP521R1",
        "ECC_SECP384R1",
      ]),
    },
  },
];
