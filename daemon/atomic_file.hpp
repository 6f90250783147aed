#pragma once
// Writing a file so that readers see the old content or the new, never half of either.

#include "common/result.hpp"

#include <filesystem>
#include <string_view>

namespace halo::app {

// Writes `content` to `path` atomically (temporary file in the same directory, fsync, rename,
// fsync of the directory), with `mode` permissions.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode = 0644);

} // namespace halo::app
