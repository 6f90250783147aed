#pragma once
// Writing a file so that readers see the old content or the new, never half of either.

#include "common/result.hpp"

#include <filesystem>
#include <string_view>

namespace halo::app {

// Whether the new content must survive a power cut (fsync of the file and the directory).
// Readers see the old file or the new one either way: that is the rename's doing. A file that is
// rewritten at every re-check and at start (the fleet export) can skip the fsyncs, which cost
// milliseconds each where the rest costs microseconds (and the flush ext4 does on a replacing
// rename: the unsynced write swaps the names instead).
enum class Durability { synced, unsynced };

// Writes `content` to `path` atomically (a dot-named temporary file in the same directory, fsync,
// rename, fsync of the directory), with `mode` permissions.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode = 0644,
                                   Durability durability = Durability::synced);

} // namespace halo::app
