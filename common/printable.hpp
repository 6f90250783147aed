#pragma once
// Text that came from a file or another process, made safe for a terminal or a log line: every
// control character (C0, DEL, and C1 as UTF-8) becomes '?', so a state file or a request cannot
// set a window title, clear the screen or start a journal field. Tabs stay; newlines do not.

#include <string>
#include <string_view>

namespace halo {

std::string printable(std::string_view text);

} // namespace halo
