#pragma once
// Reading a file whose contents are not ours (state.json, the configuration, rules and facts
// files, an API key file): opened O_NONBLOCK so a FIFO cannot hang the open, checked to be a
// regular file so /dev/zero cannot flood memory, and read up to a cap. Files in the state
// directory are also opened O_NOFOLLOW (a symlink there is not the daemon's); files an admin names
// may be links to where they keep them.

#include "common/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace halo {

enum class Links { refuse, follow };

// The whole file; an error naming the path (and `what` it is, "config" …, when given) when it is
// missing (errno ENOENT), a refused symlink (ELOOP), not a regular file (EINVAL), or larger than
// max_bytes (EFBIG).
Result<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes, Links links = Links::refuse,
                                      std::string_view what = {});

} // namespace halo
