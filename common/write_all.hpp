#pragma once
// Writes all of `data` to `fd`, again after EINTR and short writes. False on any other error
// (errno says which). Safe in a forked child and a signal-free path: no allocation, no throw.

#include <string_view>

namespace halo {

bool write_all(int fd, std::string_view data) noexcept;

} // namespace halo
