#!/bin/bash
# Builds Stratus's CirrOS-like guest image offline from Debian packages (see packages.txt):
#   disk.qcow2  a whole disk: MBR boot code; partition 2 (active, at 1 MiB): /boot with extlinux, the kernel and the
#               initramfs, never mounted by the guest; partition 1 (after it, grown at boot): the journaled ext4 root
#   vmlinuz     the same kernel, for direct kernel boot (Glance aki)
#   initrd      the same initramfs (Glance ari): it loads virtio, finds the root on the boot disk (root=, else
#               LABEL=cirros-rootfs), checks it with e2fsck and mounts it
#   manifest.json  version, kernel, suggested command line, and each file's size and sha256
# Usage: build.sh [OUTDIR]   (default: $STRATUS_CACHE or ~/.cache/stratus, then guest-image/<version>)
#        build.sh --version  (prints the version: the base version and a hash of the inputs)
# Settings (part of the version): STRATUS_GUEST_PASSWORD (cirros' console password, default gocubsgo),
# STRATUS_GUEST_ROOT_PASSWORD (root's, default none: locked). Needs root (loop mount for extlinux, file owners).
# Idempotent: an existing OUTDIR/manifest.json means done; downloaded .debs are kept in guest-image/debs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BASE_VERSION=0.2
GUEST_USER=cirros
GUEST_PASSWORD=${STRATUS_GUEST_PASSWORD-gocubsgo}
ROOT_PASSWORD=${STRATUS_GUEST_ROOT_PASSWORD-}
CACHE=${STRATUS_CACHE:-$HOME/.cache/stratus}/guest-image
DEBS=$CACHE/debs
LABEL=cirros-rootfs
BOOT_LABEL=stratus-boot
DISK_MB=${STRATUS_GUEST_DISK_MB:-112}
BOOT_MB=32 # the kernel (about 14 MB), the initramfs and extlinux, with room for a larger kernel
# no_timer_check, cryptomgr.notests (no crypto self-tests) and mitigations=off (no page table isolation or IBRS:
# each is slow under TCG) trade nothing a throwaway test guest needs; nor do the two initcalls skipped: the KDF
# self-test that cryptomgr.notests does not cover and kprobe tracing's setup (about 0.3 s of CPU under TCG).
CMDLINE="root=LABEL=$LABEL ro quiet no_timer_check cryptomgr.notests mitigations=off initcall_blacklist=crypto_kdf108_init,init_kprobe_trace console=tty1 console=ttyS0"

log() { printf '==> guest-image: %s\n' "$*" >&2; }
die() {
  printf 'guest-image: error: %s\n' "$*" >&2
  exit 1
}

version() {
  local h
  h=$(
    cd "$HERE"
    find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    printf '%s\n%s\n' "$GUEST_PASSWORD" "$ROOT_PASSWORD"
  )
  printf '%s-%s\n' "$BASE_VERSION" "$(printf '%s' "$h" | sha256sum | cut -c1-10)"
}

VERSION=$(version)
if [ "${1-}" = --version ]; then
  echo "$VERSION"
  exit 0
fi
OUT=${1:-$CACHE/$VERSION}
if [ -f "$OUT/manifest.json" ]; then
  log "cached: $OUT"
  exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time; a concurrent one may have just finished this version
if [ -f "$OUT/manifest.json" ]; then
  log "cached: $OUT"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "must run as root (it loop-mounts the root filesystem to install extlinux)"
for tool in apt-get dpkg-deb mkfs.ext4 qemu-img losetup mount readelf sha256sum lz4 strip; do
  command -v "$tool" >/dev/null || die "missing host tool $tool (see scripts/lib/packages.mjs)"
done

START=$(date +%s)
mkdir -p "$DEBS" "$(dirname "$OUT")"
WORK=$(mktemp -d "$(dirname "$OUT")/.build-XXXXXX")
MNT=$WORK/mnt
cleanup() {
  if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. Debian packages, downloaded once -------------------------------------------------------------------------
mapfile -t PKGS < <(grep -v '^\s*\(#\|$\)' "$HERE/packages.txt")
have_deb() { compgen -G "$DEBS/${1}_*.deb" >/dev/null; }
newest_deb() { find "$DEBS" -maxdepth 1 -name "${1}_*.deb" | sort -V | tail -n 1; }
kernel_pkg() { find "$DEBS" -maxdepth 1 -name 'linux-image-*-cloud-amd64_*.deb' -printf '%f\n' | sort -V | tail -n 1 | cut -d_ -f1; }
apt_ready=
apt_prepare() {
  [ -n "$apt_ready" ] && return
  if ! apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1; then
    log "apt-get update (package lists are missing)"
    apt-get update -qq >&2
  fi
  apt_ready=1
}
want=()
for p in "${PKGS[@]}"; do
  if [ "$p" = linux-image-cloud-amd64 ]; then
    [ -n "$(kernel_pkg)" ] && continue
    apt_prepare
    p=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
    [ -n "$p" ] || die "cannot resolve linux-image-cloud-amd64's kernel package"
  fi
  have_deb "$p" || want+=("$p")
done
if [ ${#want[@]} -gt 0 ]; then
  apt_prepare
  log "downloading ${#want[@]} Debian packages into $DEBS"
  if ! (cd "$DEBS" && apt-get download -q "${want[@]}" >&2); then
    log "apt-get download failed: apt-get update, then once more"
    apt-get update -qq >&2
    (cd "$DEBS" && apt-get download -q "${want[@]}" >&2) || die "cannot download: ${want[*]}"
  fi
fi
KPKG=$(kernel_pkg)
[ -n "$KPKG" ] || die "no cloud kernel package in $DEBS"

log "unpacking ${#PKGS[@]} packages"
X=$WORK/x
mkdir -p "$X"
for p in "${PKGS[@]}"; do
  [ "$p" = linux-image-cloud-amd64 ] && p=$KPKG
  deb=$(newest_deb "$p")
  [ -n "$deb" ] || die "package $p was not downloaded"
  if [ "$p" = busybox-static ]; then dpkg-deb -x "$deb" "$WORK/static"; else dpkg-deb -x "$deb" "$X"; fi
done
[ -x "$X/sbin/e2fsck.static" ] || die "e2fsck-static did not unpack"
KVER=$(basename "$(find "$X/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)")
BB=$WORK/static/bin/busybox
[ -x "$BB" ] || die "busybox-static did not unpack"

# --- 2. The root filesystem tree ----------------------------------------------------------------------------------
R=$WORK/root
log "assembling the root filesystem (kernel $KVER)"
mkdir -p "$R"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64} "$R"/{dev,proc,sys,run,tmp,mnt,root,etc,var/lib,var/log,home}
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
ln -s ../run "$R/var/run"
ln -s ../run/lock "$R/var/lock"
chmod 1777 "$R/tmp"
chmod 700 "$R/root"

# Resolves a path inside the unpacked tree, following symlinks (absolute ones stay inside the tree).
xresolve() {
  local p=$1 t n=0
  while [ -L "$X$p" ] && [ $n -lt 20 ]; do
    t=$(readlink "$X$p")
    case "$t" in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
    n=$((n + 1))
  done
  realpath -ms "$p"
}
# Copies a file of the unpacked tree to the same path in a target tree (default: the root filesystem).
put() {
  local src dst=${2:-$R}
  src=$(xresolve "$1")
  [ -f "$X$src" ] || die "missing $1 in the packages"
  mkdir -p "$(dirname "$dst$1")"
  rm -f "$dst$1"
  cp "$X$src" "$dst$1"
}

# busybox (dynamic) and its applets (the real tools below replace some of them).
put /bin/busybox
"$X/bin/busybox" --list-full | while read -r a; do
  [ -e "$R/$a" ] || [ -L "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
for f in /sbin/blkid /bin/lsblk /usr/bin/resizepart /bin/mountpoint /sbin/mke2fs /sbin/e2fsck /sbin/resize2fs \
  /sbin/tune2fs /sbin/dumpe2fs /usr/bin/curl /usr/bin/jq /usr/bin/sudo /usr/sbin/dropbear /usr/bin/dropbearkey \
  /usr/bin/dbclient /bin/ping /usr/libexec/sudo/sudoers.so /usr/libexec/sudo/libsudo_util.so.0 /etc/mke2fs.conf \
  /lib/x86_64-linux-gnu/security/pam_permit.so /lib/x86_64-linux-gnu/security/pam_deny.so; do
  put "$f"
done
# The static busybox runs init and the boot scripts (#!/usr/libexec/stratus/busybox sh): its applets start without
# exec or dynamic linking, which adds up under TCG. Users' shells stay the dynamic one (PATH before applets).
mkdir -p "$R/usr/libexec/stratus"
cp "$BB" "$R/usr/libexec/stratus/busybox"
ln -sf ../libexec/stratus/busybox "$R/usr/sbin/init" # relative: the initramfs checks it before switch_root
ln -sf ping "$R/usr/bin/ping4"
ln -sf ping "$R/usr/bin/ping6"
for l in mkfs.ext4 mkfs.ext3 mkfs.ext2; do ln -sf mke2fs "$R/sbin/$l"; done
for l in fsck.ext4 fsck.ext3 fsck.ext2; do ln -sf e2fsck "$R/sbin/$l"; done
ln -sf tune2fs "$R/sbin/e2label"
# dropbear gives non-root sessions PATH=/usr/bin:/bin: make the sbin tools (blkid, mkfs.ext4, ip...) found there too.
for f in "$R"/usr/sbin/*; do
  [ -e "$R/usr/bin/${f##*/}" ] || [ -L "$R/usr/bin/${f##*/}" ] || ln -s "../sbin/${f##*/}" "$R/usr/bin/${f##*/}"
done

# Shared libraries: the closure of every ELF file's DT_NEEDED, found in the unpacked library directories.
LIBDIRS=(/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/libexec/sudo)
find_lib() {
  local d
  for d in "${LIBDIRS[@]}"; do
    if [ -e "$X$d/$1" ]; then
      echo "$d/$1"
      return 0
    fi
  done
  return 1
}
declare -A seen=()
queue=()
while IFS= read -r -d '' f; do
  head -c 4 "$f" | grep -q 'ELF' && queue+=("$f")
done < <(find "$R" -type f -print0)
while [ ${#queue[@]} -gt 0 ]; do
  f=${queue[0]}
  queue=("${queue[@]:1}")
  while read -r lib; do
    [ -n "$lib" ] || continue
    [ -n "${seen[$lib]-}" ] && continue
    seen[$lib]=1
    path=$(find_lib "$lib") || die "library $lib (needed by ${f#"$R"}) is in none of the packages"
    if [ ! -e "$R$path" ]; then
      put "$path"
      queue+=("$R$path")
    fi
  done < <(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
put /lib64/ld-linux-x86-64.so.2
mkdir -p "$R/usr/lib/x86_64-linux-gnu"
[ -e "$R/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] || ln -s /lib64/ld-linux-x86-64.so.2 "$R/lib/x86_64-linux-gnu/"

# Kernel modules (and their dependencies) for the initramfs and the root filesystem.
log "selecting kernel modules"
"$BB" depmod -b "$X" "$KVER"
MODDIR=/lib/modules/$KVER
# The modules (with their dependencies) listed in files "$@".
modules_of() {
  local m line k
  while read -r m; do
    case "$m" in "" | "#"* | :*) continue ;; esac # ":name" lines are rcS's markers, not modules
    line=$(grep -E "(^|/)$m\.ko:" "$X$MODDIR/modules.dep") || die "kernel module $m not found"
    for k in ${line/:/}; do echo "$k"; done
  done < <(cat "$@") | sort -u
}
# Copies modules "${@:2}" into tree $1, without their signatures (strip drops the appended signature: the kernel,
# which does not enforce them, then has nothing to verify, which is slow under TCG) or debug sections.
copy_modules() {
  local dst=$1 k
  shift
  for k in "$@"; do
    put "$MODDIR/$k" "$dst"
    strip --strip-debug "$dst$MODDIR/$k"
  done
  cp "$X$MODDIR/modules.builtin" "$X$MODDIR/modules.order" "$dst$MODDIR/"
  "$BB" depmod -b "$dst" "$KVER"
}
# Into a file first: a module not found must stop the build (in a process substitution, die would only end it).
modules_of "$HERE/initramfs/modules" "$HERE/rootfs/etc/modules" >"$WORK/modules"
mapfile -t mods <"$WORK/modules"
copy_modules "$R" "${mods[@]}"

# Configuration files, users and passwords.
cp -a "$HERE/rootfs/." "$R/"
hash_pw() { if [ -n "$1" ]; then printf '%s' "$1" | "$BB" mkpasswd -m sha512 -P 0; else echo '!'; fi; }
days=$(($(date +%s) / 86400))
cat >"$R/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
$GUEST_USER:x:1000:1000:$GUEST_USER:/home/$GUEST_USER:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<EOF
root:x:0:
tty:x:5:
sudo:x:27:$GUEST_USER
$GUEST_USER:x:1000:
nogroup:x:65534:
EOF
{
  echo "root:$(hash_pw "$ROOT_PASSWORD"):$days:0:99999:7:::"
  echo "$GUEST_USER:$(hash_pw "$GUEST_PASSWORD"):$days:0:99999:7:::"
  echo "nobody:*:$days:0:99999:7:::"
} >"$R/etc/shadow"
chmod 640 "$R/etc/shadow"
chmod 440 "$R/etc/sudoers"
mkdir -p "$R/home/$GUEST_USER" "$R/etc/dropbear" "$R/etc/stratus" "$R/var/lib/sudo"
chown 1000:1000 "$R/home/$GUEST_USER"
chmod 700 "$R/var/lib/sudo"
echo cirros >"$R/etc/hostname"
echo "$VERSION" >"$R/etc/stratus/version"
if [ -n "$GUEST_PASSWORD" ]; then
  echo "login as '$GUEST_USER' user. default password: '$GUEST_PASSWORD'. use 'sudo' for root." >"$R/etc/stratus/login-hint"
else
  echo "login as '$GUEST_USER' user with your SSH key. use 'sudo' for root." >"$R/etc/stratus/login-hint"
fi
[ -n "$ROOT_PASSWORD" ] && echo "root logs in with its password and the instance's keys" >"$R/etc/stratus/root-login"
printf 'Stratus guest %s (like CirrOS) \\n \\l\n\n' "$VERSION" >"$R/etc/issue"
chown -R 0:0 "$R/etc" "$R/usr" "$R/root"
chmod 4755 "$R/usr/bin/sudo" # after the chown, which clears setuid bits

# --- 3. The initramfs: busybox, e2fsck (both static), the disk's and NICs' modules and /init -----------------------------------------
log "building the initramfs"
I=$WORK/initramfs
mkdir -p "$I"/{bin,sbin,etc,proc,sys,dev,newroot,usr/bin,usr/sbin}
cp "$BB" "$I/bin/busybox"
"$BB" --list-full | while read -r a; do [ -e "$I/$a" ] || ln -s /bin/busybox "$I/$a"; done
cp "$X/sbin/e2fsck.static" "$I/sbin/e2fsck"
ln -s /proc/mounts "$I/etc/mtab"
# The guest's clock may lag the host that last wrote the filesystem: no time-based checks or "in the future" stops.
printf '[options]\n\tbroken_system_clock = 1\n' >"$I/etc/e2fsck.conf"
modules_of "$HERE/initramfs/modules" >"$WORK/modules"
mapfile -t mods <"$WORK/modules"
copy_modules "$I" "${mods[@]}"
cp "$HERE/initramfs/init" "$I/init"
cp "$HERE/initramfs/modules" "$I/etc/modules"
chmod 755 "$I/init"
mkdir -p "$WORK/out"
# LZ4 (the kernel's legacy format): it unpacks several times faster than gzip, which matters more under TCG than the
# few hundred KB more that the boot loader reads.
(cd "$I" && find . -print0 | LC_ALL=C sort -z | "$BB" cpio -o -0 -H newc 2>/dev/null) | lz4 -l -9 -q >"$WORK/out/initrd"
cp "$X/boot/vmlinuz-$KVER" "$WORK/out/vmlinuz"

# --- 4. The disk: MBR boot code, /boot (features extlinux can read) at 1 MiB, then the journaled root --------------
# The root is partition 1 (Nova's root=/dev/vda means its first partition) and the last one on the disk (growroot
# grows it); /boot is partition 2, the active one. The guest never mounts /boot: an unclean stop cannot harm it.
log "building the ${DISK_MB} MiB disk"
ROOT_MB=$((DISK_MB - 1 - BOOT_MB))
B=$WORK/boot
mkdir -p "$B/extlinux" "$R/boot"
cp "$WORK/out/vmlinuz" "$WORK/out/initrd" "$B/"
cat >"$B/extlinux/extlinux.conf" <<EOF
DEFAULT stratus
PROMPT 0
TIMEOUT 0
LABEL stratus
  KERNEL /vmlinuz
  INITRD /initrd
  APPEND $CMDLINE
EOF
BOOTFS=$WORK/boot.img
mkfs.ext4 -q -F -L "$BOOT_LABEL" -m 0 -N 64 -E root_owner=0:0 \
  -O ^has_journal,^64bit,^metadata_csum,^extent,^flex_bg,^huge_file,^dir_nlink,^extra_isize \
  -d "$B" "$BOOTFS" "${BOOT_MB}M" >/dev/null
mkdir -p "$MNT"
mount -o loop "$BOOTFS" "$MNT"
"$X/usr/bin/extlinux" --install "$MNT/extlinux" >/dev/null 2>&1 || die "extlinux --install failed"
umount "$MNT"
# The root: ext4 with a journal (an unclean stop replays it) and checksums, its features spelled out so that the
# build host's mke2fs.conf adds none the guest lacks; inode tables and journal zeroed here, not by the guest.
ROOTFS=$WORK/rootfs.img
mkfs.ext4 -q -F -L "$LABEL" -b 4096 -I 256 -m 0 -N 4096 -J size=8 \
  -O none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,dir_nlink,extra_isize,64bit,metadata_csum \
  -E root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0 -d "$R" "$ROOTFS" "${ROOT_MB}M" >/dev/null
RAW=$WORK/disk.raw
truncate -s "${DISK_MB}M" "$RAW"
dd if="$X/usr/lib/EXTLINUX/mbr.bin" of="$RAW" bs=440 count=1 conv=notrunc status=none
le32() { printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
# One primary partition entry at byte $1: status $2 (octal: 200 active, 0 not), type 0x83, start sector $3, $4
# sectors (CHS fields saturated).
mbr_entry() {
  # shellcheck disable=SC2059 # the formats are octal escapes
  {
    printf "\\$2\\376\\377\\377\\203\\376\\377\\377"
    printf "$(le32 "$3")"
    printf "$(le32 "$4")"
  } | dd of="$RAW" bs=1 seek="$1" conv=notrunc status=none
}
mbr_entry 446 0 $(((1 + BOOT_MB) * 2048)) $((ROOT_MB * 2048))
mbr_entry 462 200 2048 $((BOOT_MB * 2048))
printf '\125\252' | dd of="$RAW" bs=1 seek=510 conv=notrunc status=none
dd if="$BOOTFS" of="$RAW" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$ROOTFS" of="$RAW" bs=1M seek=$((1 + BOOT_MB)) conv=notrunc,sparse status=none
qemu-img convert -q -f raw -O qcow2 -c -o cluster_size=65536 "$RAW" "$WORK/out/disk.qcow2"

# --- 5. The manifest, then publish atomically -----------------------------------------------------------------------
entry() {
  printf '"%s": { "size": %s, "sha256": "%s" }' "$1" "$(stat -c %s "$WORK/out/$1")" \
    "$(sha256sum "$WORK/out/$1" | cut -d' ' -f1)"
}
cat >"$WORK/out/manifest.json" <<EOF
{
  "version": "$VERSION",
  "kernel": "$KVER",
  "user": "$GUEST_USER",
  "rootLabel": "$LABEL",
  "bootLabel": "$BOOT_LABEL",
  "cmdline": "$CMDLINE",
  "diskVirtualSize": $((DISK_MB * 1024 * 1024)),
  "files": {
    $(entry disk.qcow2),
    $(entry vmlinuz),
    $(entry initrd)
  }
}
EOF
rm -rf "$OUT"
mv "$WORK/out" "$OUT"
log "built $OUT in $(($(date +%s) - START)) s: disk.qcow2 $(du -k "$OUT/disk.qcow2" | cut -f1) KiB, vmlinuz $(du -k "$OUT/vmlinuz" | cut -f1) KiB, initrd $(du -k "$OUT/initrd" | cut -f1) KiB"
