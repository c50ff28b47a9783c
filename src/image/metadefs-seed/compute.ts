// Default catalog, compute side: properties Nova reads from images (hw_*, os_*), flavors' extra specs (hw:*,
// quota:*) and host aggregates. Descriptions are Stratus's own summaries of what Nova does with each key.
import { IMAGE_VOLUME_FLAVOR, choice, int, str, type SeedNamespace } from "./types.js";

const IMAGE = [{ name: "OS::Glance::Image" }];
const IMAGE_AND_VOLUME = [
  { name: "OS::Glance::Image" },
  { name: "OS::Cinder::Volume", properties_target: "image" },
];

const CPU_MODELS = [
  "Conroe",
  "Penryn",
  "Nehalem",
  "Westmere",
  "SandyBridge",
  "IvyBridge",
  "Haswell",
  "Broadwell",
  "Skylake-Client",
  "Skylake-Server",
  "Cascadelake-Server",
  "Cooperlake",
  "Icelake-Server",
  "SapphireRapids",
  "Opteron_G1",
  "Opteron_G2",
  "Opteron_G3",
  "Opteron_G4",
  "Opteron_G5",
  "EPYC",
  "EPYC-Rome",
  "EPYC-Milan",
  "EPYC-Genoa",
];

const CPU_FEATURES = [
  "fpu",
  "vme",
  "de",
  "pse",
  "tsc",
  "msr",
  "pae",
  "mce",
  "cx8",
  "apic",
  "sep",
  "mtrr",
  "pge",
  "mca",
  "cmov",
  "pat",
  "pse36",
  "clflush",
  "mmx",
  "fxsr",
  "sse",
  "sse2",
  "ss",
  "ht",
  "nx",
  "pdpe1gb",
  "rdtscp",
  "lm",
  "pni",
  "pclmulqdq",
  "vmx",
  "svm",
  "ssse3",
  "fma",
  "cx16",
  "sse4.1",
  "sse4.2",
  "x2apic",
  "movbe",
  "popcnt",
  "aes",
  "xsave",
  "avx",
  "f16c",
  "rdrand",
  "hypervisor",
  "abm",
  "3dnowprefetch",
  "bmi1",
  "hle",
  "avx2",
  "smep",
  "bmi2",
  "erms",
  "invpcid",
  "rtm",
  "mpx",
  "avx512f",
  "avx512dq",
  "rdseed",
  "adx",
  "smap",
  "clflushopt",
  "clwb",
  "avx512cd",
  "sha-ni",
  "avx512bw",
  "avx512vl",
  "xsaveopt",
  "xsavec",
  "umip",
  "pku",
  "avx512vnni",
  "vaes",
  "vpclmulqdq",
  "gfni",
  "md-clear",
  "spec-ctrl",
  "ssbd",
  "arch-capabilities",
];

const topology = (what: string, max: boolean): string =>
  max
    ? `Upper bound on the number of ${what} the guest's virtual CPU topology may use; Nova picks a topology within it.`
    : `Preferred number of ${what} in the guest's virtual CPU topology, for guest operating systems that license or schedule per ${what.replace(/s$/, "")}.`;

export const computeNamespaces: SeedNamespace[] = [
  {
    namespace: "OS::Compute::Hypervisor",
    display_name: "Hypervisor Selection",
    description:
      "Ask for compute hosts running a particular hypervisor or virtual machine mode. Nova's ImagePropertiesFilter only schedules an image onto hosts that match these properties.",
    visibility: "public",
    protected: true,
    resource_type_associations: IMAGE,
    properties: {
      hypervisor_type: choice("Hypervisor Type", "The hypervisor the image needs.", [
        "baremetal",
        "hyperv",
        "kvm",
        "lxc",
        "qemu",
        "uml",
        "vmware",
        "vz",
        "xen",
      ]),
      vm_mode: choice(
        "VM Mode",
        "The virtual machine mode (the ABI the guest expects): hvm for full virtualisation, xen for Xen paravirtualisation, uml for User Mode Linux, exe for container executables.",
        ["hvm", "xen", "uml", "exe"],
      ),
    },
  },
  {
    namespace: "OS::Compute::Watchdog",
    display_name: "Watchdog Behavior",
    description:
      "Give the guest an emulated hardware watchdog and choose what the hypervisor does when the guest stops feeding it (a hung kernel, for instance). Only the libvirt driver supports it.",
    visibility: "public",
    protected: true,
    resource_type_associations: IMAGE_VOLUME_FLAVOR,
    properties: {
      watchdog_action: choice(
        "Watchdog Action",
        "What happens when the watchdog fires: reset the server, power it off, pause it, do nothing but log (none), or have no watchdog device at all (disabled, the default).",
        ["disabled", "reset", "poweroff", "pause", "none"],
      ),
    },
  },
  {
    namespace: "OS::Compute::VirtCPUTopology",
    display_name: "Virtual CPU Topology",
    description:
      "How the guest's vCPUs are presented as sockets, cores and threads. Some operating systems only use a limited number of sockets, or are licensed per socket; a matching topology lets them use every vCPU.",
    visibility: "public",
    protected: true,
    resource_type_associations: IMAGE_VOLUME_FLAVOR,
    properties: {
      cpu_sockets: int("vCPU Sockets", topology("sockets", false), { minimum: 1 }),
      cpu_cores: int("vCPU Cores", topology("cores", false), { minimum: 1 }),
      cpu_threads: int("vCPU Threads", topology("threads", false), { minimum: 1 }),
      cpu_max_sockets: int("Max vCPU Sockets", topology("sockets", true), { minimum: 1 }),
      cpu_max_cores: int("Max vCPU Cores", topology("cores", true), { minimum: 1 }),
      cpu_max_threads: int("Max vCPU Threads", topology("threads", true), { minimum: 1 }),
    },
  },
  {
    namespace: "OS::Compute::CPUPinning",
    display_name: "CPU Pinning",
    description:
      "Dedicate host CPUs to the guest's vCPUs instead of letting them float over shared host CPUs, for latency-sensitive workloads.",
    visibility: "public",
    protected: true,
    resource_type_associations: IMAGE_VOLUME_FLAVOR,
    properties: {
      cpu_policy: choice(
        "CPU Pinning Policy",
        "shared (the default) lets vCPUs run on any host CPU of the shared set; dedicated pins each vCPU to its own host CPU.",
        ["shared", "dedicated"],
      ),
      cpu_thread_policy: choice(
        "CPU Thread Pinning Policy",
        "With dedicated CPUs on hosts with SMT: prefer thread siblings, require them, or isolate each vCPU on a core whose sibling stays unused.",
        ["isolate", "prefer", "require"],
      ),
    },
  },
  {
    namespace: "OS::Compute::CPUMode",
    display_name: "CPU Mode",
    description: "Which CPU model the guest sees.",
    visibility: "public",
    protected: true,
    resource_type_associations: [
      { name: "OS::Glance::Image", prefix: "hw_" },
      { name: "OS::Nova::Flavor", prefix: "hw:" },
    ],
    properties: {
      cpu_mode: choice(
        "CPU Mode",
        "host-model copies the host CPU's model and features (migrations stay possible between similar hosts), host-passthrough exposes the host CPU as is, custom uses the model named in Nova's configuration, none leaves the choice to the hypervisor.",
        ["none", "host-model", "host-passthrough", "custom"],
      ),
    },
  },
  {
    namespace: "OS::Compute::Quota",
    display_name: "Flavor Quota",
    description:
      "Limits the hypervisor enforces on a server's CPU time, memory, disk I/O and network traffic, set as quota:* extra specs of a flavor. Which keys take effect depends on the compute driver.",
    visibility: "public",
    protected: true,
    resource_type_associations: [{ name: "OS::Nova::Flavor" }],
    objects: [
      {
        name: "CPU Limits",
        description: "Share and cap the host CPU time the server's vCPUs get.",
        properties: {
          "quota:cpu_shares": int(
            "Quota: CPU Shares",
            "Relative weight of the server's CPU time against other servers on the host: 2048 gets twice the time of 1024 under contention.",
          ),
          "quota:cpu_period": int(
            "Quota: CPU Period",
            "Length of the enforcement interval in microseconds (1000 to 1000000) within which cpu_quota applies.",
            { minimum: 1000, maximum: 1000000 },
          ),
          "quota:cpu_quota": int(
            "Quota: CPU Quota",
            "Microseconds of CPU time each vCPU may use per period; a negative value means no limit.",
          ),
        },
      },
      {
        name: "Memory Limits",
        description: "Reserve or cap the memory the hypervisor gives the server.",
        properties: {
          "quota:memory_limit": int(
            "Quota: Memory Limit",
            "Most memory, in MB, the server may use even when the host has more free.",
            { minimum: 0 },
          ),
          "quota:memory_reservation": int(
            "Quota: Memory Reservation",
            "Memory, in MB, guaranteed to the server.",
            { minimum: 0 },
          ),
          "quota:memory_shares_level": choice(
            "Quota: Memory Shares Level",
            "Relative priority of the server's memory under contention; custom uses memory_shares_share.",
            ["custom", "high", "normal", "low"],
          ),
          "quota:memory_shares_share": int(
            "Quota: Memory Shares Share",
            "The number of shares when the level is custom.",
            { minimum: 0 },
          ),
        },
      },
      {
        name: "Disk QoS",
        description: "Cap the server's disk throughput and I/O operations per second.",
        properties: Object.fromEntries(
          (["read", "write", "total"] as const).flatMap((op) => [
            [
              `quota:disk_${op}_bytes_sec`,
              int(
                `Quota: Disk ${op} bytes / sec`,
                `Most bytes per second of disk ${op === "total" ? "reads and writes together" : `${op}s`}.`,
              ),
            ],
            [
              `quota:disk_${op}_iops_sec`,
              int(
                `Quota: Disk ${op} IOPS / sec`,
                `Most disk ${op === "total" ? "operations" : `${op} operations`} per second.`,
              ),
            ],
          ]),
        ),
      },
      {
        name: "Virtual Interface QoS",
        description:
          "Shape the traffic of the server's virtual network interfaces; inbound and outbound are independent and an unset direction is not shaped.",
        properties: Object.fromEntries(
          (["inbound", "outbound"] as const).flatMap((dir) => [
            [
              `quota:vif_${dir}_average`,
              int(`Quota: VIF ${dir} average`, `Average ${dir} rate in kilobytes per second.`),
            ],
            [
              `quota:vif_${dir}_burst`,
              int(`Quota: VIF ${dir} burst`, `Kilobytes that may be sent ${dir} at peak speed in one burst.`),
            ],
            [
              `quota:vif_${dir}_peak`,
              int(`Quota: VIF ${dir} peak`, `Highest ${dir} rate in kilobytes per second during a burst.`),
            ],
          ]),
        ),
      },
    ],
  },
  {
    namespace: "OS::Compute::LibvirtImage",
    display_name: "libvirt Driver Options for Images",
    description:
      "Image properties the libvirt compute driver reads to build the guest's virtual hardware: buses, device models, firmware and guest agent support.",
    visibility: "public",
    protected: true,
    resource_type_associations: IMAGE,
    properties: {
      hw_disk_bus: choice(
        "Disk Bus",
        "The bus disks are attached to; virtio performs best when the guest has drivers for it.",
        ["scsi", "virtio", "uml", "xen", "ide", "usb", "fdc", "sata", "lxc"],
      ),
      hw_cdrom_bus: choice(
        "CD-ROM Bus",
        "The bus CD-ROM devices (such as the config drive) are attached to.",
        ["scsi", "virtio", "uml", "xen", "ide", "usb", "fdc", "sata", "lxc"],
      ),
      hw_scsi_model: str(
        "SCSI Model",
        "The SCSI controller model; virtio-scsi scales to many disks and supports discard.",
        {
          default: "virtio-scsi",
        },
      ),
      hw_firmware_type: choice("Firmware Type", "Boot the guest with legacy BIOS or with UEFI.", [
        "bios",
        "uefi",
      ]),
      hw_machine_type: str(
        "Machine Type",
        "The emulated machine type (q35, pc, virt, ...); when unset Nova uses its configured default for the architecture.",
      ),
      hw_video_model: choice("Video Model", "The emulated graphics device.", [
        "vga",
        "cirrus",
        "vmvga",
        "xen",
        "qxl",
        "virtio",
        "gop",
        "bochs",
        "none",
      ]),
      hw_video_ram: int(
        "Max Video RAM",
        "Video memory in MB; it may not exceed the flavor's hw_video:ram_max_mb.",
        { minimum: 0 },
      ),
      hw_vif_model: choice(
        "Virtual Network Interface",
        "The network interface model; which ones work depends on the hypervisor (virtio for KVM guests with drivers, e1000 for the others).",
        [
          "e1000",
          "e1000e",
          "ne2k_pci",
          "netfront",
          "pcnet",
          "rtl8139",
          "spapr-vlan",
          "virtio",
          "vmxnet3",
          "igb",
        ],
      ),
      hw_vif_multiqueue_enabled: choice(
        "Multiqueue Enabled",
        "Give virtio network interfaces one queue per vCPU so packet processing scales with the vCPU count.",
        ["true", "false"],
      ),
      hw_qemu_guest_agent: choice(
        "QEMU Guest Agent",
        "Whether the image runs the QEMU guest agent, which lets the host freeze file systems for consistent snapshots and set passwords.",
        ["yes", "no"],
      ),
      hw_pointer_model: choice(
        "Pointer Model",
        "An absolute pointing device (USB tablet) so the console cursor follows the mouse exactly.",
        ["usbtablet"],
      ),
      hw_rng_model: str(
        "Random Number Generator Model",
        "The model of the virtual random number generator device.",
        {
          default: "virtio",
        },
      ),
      os_require_quiesce: choice(
        "Require Quiesced File Systems",
        "When yes, snapshots fail unless the guest agent could freeze the file systems first.",
        ["yes", "no"],
      ),
      os_command_line: str(
        "Kernel Command Line",
        "Kernel arguments for images booted with a separate kernel (kernel_id/ramdisk_id).",
      ),
      os_type: choice(
        "OS Type",
        "The guest operating system family; Nova adapts some defaults (clock, disk format) to it.",
        ["linux", "windows"],
      ),
    },
  },
  {
    namespace: "OS::Compute::Libvirt",
    display_name: "libvirt Driver Options",
    description: "libvirt driver options that can be set on images (hw_) or on flavors (hw:).",
    visibility: "public",
    protected: true,
    resource_type_associations: [
      { name: "OS::Glance::Image", prefix: "hw_" },
      { name: "OS::Nova::Flavor", prefix: "hw:" },
    ],
    properties: {
      serial_port_count: int("Serial Port Count", "How many serial ports the guest gets.", { minimum: 0 }),
      boot_menu: choice("Boot Menu", "Show the firmware's boot menu at startup.", ["true", "false"]),
      mem_encryption: choice(
        "Hardware Memory Encryption",
        "Encrypt the guest's memory with the host CPU's memory encryption (AMD SEV) where available.",
        ["true", "false"],
      ),
    },
  },
  {
    namespace: "OS::Compute::RandomNumberGenerator",
    display_name: "Random Number Generator",
    description:
      "Let servers of a flavor have a virtual random number generator fed by the host's entropy, within a rate limit.",
    visibility: "public",
    protected: true,
    resource_type_associations: [{ name: "OS::Nova::Flavor" }],
    properties: {
      "hw_rng:allowed": {
        title: "Random Number Generator Allowed",
        description: "Whether servers of this flavor may have a random number generator device.",
        type: "boolean",
      },
      "hw_rng:rate_bytes": int(
        "Random Number Generator Rate (bytes)",
        "Bytes the guest may read per period.",
        {
          minimum: 0,
        },
      ),
      "hw_rng:rate_period": int(
        "Random Number Generator Period",
        "Length of the rate limit period in milliseconds.",
        {
          minimum: 0,
        },
      ),
    },
  },
  {
    namespace: "OS::Compute::GuestMemoryBacking",
    display_name: "Guest Memory Backing",
    description: "Back the guest's memory with huge pages (or force small pages) on the host.",
    visibility: "public",
    protected: true,
    resource_type_associations: [
      { name: "OS::Nova::Flavor", prefix: "hw:" },
      { name: "OS::Glance::Image", prefix: "hw_" },
      { name: "OS::Cinder::Volume", prefix: "hw_", properties_target: "image" },
    ],
    properties: {
      mem_page_size: str(
        "Memory Page Size",
        "small, large, any, or an explicit size such as 2MB or 1GB. Huge pages reduce TLB misses for memory-intensive guests.",
      ),
    },
  },
  {
    namespace: "OS::Compute::HostCapabilities",
    display_name: "Compute Host Capabilities",
    description:
      "Require compute hosts whose CPU matches: flavors (capabilities:) are checked by the ComputeCapabilitiesFilter and host aggregates (aggregate_instance_extra_specs:) by the AggregateInstanceExtraSpecsFilter.",
    visibility: "public",
    protected: true,
    resource_type_associations: [
      { name: "OS::Nova::Flavor", prefix: "capabilities:" },
      { name: "OS::Nova::Aggregate", prefix: "aggregate_instance_extra_specs:" },
    ],
    properties: {
      "cpu_info:vendor": choice("Vendor", "The CPU vendor.", ["Intel", "AMD"], { operators: ["<or>"] }),
      "cpu_info:model": choice("Model", "The CPU model as libvirt names it.", CPU_MODELS, {
        operators: ["<or>"],
      }),
      "cpu_info:arch": choice(
        "Architecture",
        "The host CPU architecture.",
        ["x86_64", "i686", "aarch64", "ppc64le", "s390x"],
        {
          operators: ["<or>"],
        },
      ),
      "cpu_info:topology:cores": int("Cores", "Cores per socket of the host.", {
        default: 1,
        readonly: false,
      }),
      "cpu_info:topology:threads": int("Threads", "Threads per core of the host.", {
        default: 1,
        readonly: false,
      }),
      "cpu_info:topology:sockets": int("Sockets", "CPU sockets of the host.", {
        default: 1,
        readonly: false,
      }),
      "cpu_info:features": {
        title: "Features",
        description:
          "CPU flags the host must have: <or> accepts a host with any of the listed flags, <all-in> requires all of them.",
        type: "array",
        operators: ["<or>", "<all-in>"],
        items: { type: "string", enum: CPU_FEATURES },
      },
    },
  },
  {
    namespace: "OS::Compute::InstanceData",
    display_name: "Instance Config Data",
    description: "How configuration data reaches servers booted from the image.",
    visibility: "public",
    protected: true,
    resource_type_associations: IMAGE_AND_VOLUME,
    properties: {
      img_config_drive: choice(
        "Config Drive",
        "mandatory always attaches a config drive holding metadata and user data; optional leaves it to the request.",
        ["optional", "mandatory"],
      ),
    },
  },
  {
    namespace: "OS::Compute::GuestShutdownBehavior",
    display_name: "Shutdown Behavior",
    description: "How long Nova waits for a clean shutdown of the guest.",
    visibility: "public",
    protected: true,
    resource_type_associations: IMAGE,
    properties: {
      os_shutdown_timeout: int(
        "Shutdown Timeout",
        "Seconds to wait for the guest to power itself off after an ACPI shutdown request before it is powered off.",
        { minimum: 0 },
      ),
    },
  },
  {
    namespace: "OS::Compute::VTPM",
    display_name: "Virtual TPM",
    description: "Give the guest an emulated Trusted Platform Module, requested as a placement trait.",
    visibility: "public",
    protected: true,
    resource_type_associations: [
      { name: "OS::Nova::Flavor", prefix: "traits:" },
      { name: "OS::Glance::Image", prefix: "traits:" },
    ],
    properties: {
      COMPUTE_SECURITY_TPM_1_2: choice(
        "Virtual TPM 1.2",
        "Require a host able to emulate a version 1.2 TPM.",
        ["required"],
        {
          default: "required",
        },
      ),
      COMPUTE_SECURITY_TPM_2_0: choice(
        "Virtual TPM 2.0",
        "Require a host able to emulate a version 2.0 TPM.",
        ["required"],
        {
          default: "required",
        },
      ),
    },
  },
  {
    namespace: "OS::Compute::AggregateNumInstancesFilter",
    display_name: "Instances per Host",
    description: "Cap the number of servers on each host of an aggregate (AggregateNumInstancesFilter).",
    visibility: "public",
    protected: false,
    resource_type_associations: [{ name: "OS::Nova::Aggregate" }],
    properties: {
      max_instances_per_host: int("Max Instances Per Host", "Most servers a host of the aggregate may run.", {
        minimum: 0,
        readonly: false,
      }),
    },
  },
  {
    namespace: "OS::Compute::AggregateIoOpsFilter",
    display_name: "I/O Operations per Host",
    description:
      "Cap the concurrent I/O-heavy tasks (builds, resizes, snapshots) on each host of an aggregate.",
    visibility: "public",
    protected: false,
    resource_type_associations: [{ name: "OS::Nova::Aggregate" }],
    properties: {
      max_io_ops_per_host: int(
        "Max I/O Operations Per Host",
        "Most I/O-intensive tasks a host of the aggregate runs at once.",
        {
          minimum: 1,
          readonly: false,
        },
      ),
    },
  },
];
