#pragma once
// boot probe: which kernel the next boot starts, and whether its initramfs predates the firmware.
// Reads: /boot/loader/entries/*.conf (Boot Loader Specification entries), the GRUB environment
// block (/boot/grub2/grubenv, /boot/efi/EFI/fedora/grubenv, /boot/grub/grubenv: saved_entry,
// next_entry), /usr/lib/modules/*/vmlinuz and /boot/vmlinuz-* (installed kernels), stat() of the
// next kernel's initramfs; and the facts the kernel and packages probes already set
// (kernel.release, package.*.installtime), so it runs after them.
// Privileges: none on Fedora (/boot/loader/entries is world-readable; grubenv too).
// Sets: kernel.next_boot.release, kernel.next_boot.entry, kernel.next_boot.differs,
// kernel.installed, boot.initramfs.mtime, boot.initramfs.older_than_firmware.
// Feeds: "next boot lands on a broken kernel" and "initramfs holds stale firmware (dracut -f)".
// Since: 0.1.0.

#include "common/result.hpp"
#include "probes/probe.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

extern const ProbeInfo k_boot_probe;

struct BlsEntry {
    std::string id; // file name without ".conf": what grubenv's saved_entry names
    std::string title;
    std::string version;
    std::string machine_id;
    std::string sort_key;
    std::string kernel_image; // the `linux` key
    std::vector<std::string> initrd;
    std::string options;
};

// One BLS entry file: `key value` lines, '#' comments. Fails on non-text (NUL bytes); an entry
// without `linux` parses (the caller decides it is unusable).
Result<BlsEntry> parse_bls_entry(std::string_view text);

// The Boot Loader Specification order, first = shown first = the default when nothing is saved:
// entries with a sort-key before those without; then sort-key ascending, machine-id ascending,
// version descending (RPM order); then the file name descending (RPM order).
void sort_bls_entries(std::vector<BlsEntry>& entries);

struct GrubEnv {
    std::map<std::string, std::string> values;
    bool truncated = false; // shorter than GRUB's 1024-byte block, or a last line without '\n'
};

// A GRUB environment block: the "# GRUB Environment Block" signature, `name=value` lines, '#'
// padding. Fails without the signature (GRUB then ignores the file, and so do we).
Result<GrubEnv> parse_grubenv(std::string_view text);

// The entry GRUB boots for `wanted` (saved_entry/next_entry): an entry id, a title or a menu
// index; nullptr when it names none (GRUB then boots the first entry).
const BlsEntry* find_grub_entry(const std::vector<BlsEntry>& sorted, std::string_view wanted);

} // namespace halo::probes
