// The control socket's messages: whatever a peer sends (a request) or a server answers (a reply
// line) is parsed without crashing, and what comes back out is printable.
#include "common/control_message.hpp"
#include "common/printable.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto r = halo::parse_control_request(bytes); !r) {
        // printable() keeps tabs (engine output lines hold them); every other C0 control is gone.
        for (const char c : r.error().message) {
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t') std::abort();
        }
    }
    const std::string_view line = bytes.substr(0, bytes.find('\n'));
    if (auto reply = halo::parse_control_reply(line)) {
        const std::string out = halo::format_control_reply(*reply);
        if (out.size() > halo::kControlReplyMax || out.find('\n') != out.size() - 1) std::abort();
    }
    return 0;
}
