#pragma once
// Reading a file the daemon does not own the contents of (state.json, control and config files):
// opened O_NONBLOCK|O_NOFOLLOW so a FIFO or a symlink cannot hang or redirect the open, checked to
// be a regular file so /dev/zero cannot flood memory, and read up to a cap.

#include "common/result.hpp"

#include <cstddef>
#include <string>

namespace halo::app {

// The whole file; an error naming the path when it is missing (errno ENOENT), a symlink, not a
// regular file, or larger than max_bytes.
Result<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes);

} // namespace halo::app
