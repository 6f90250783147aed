#pragma once
// The messages of halo-checkd's control socket (docs/daemon.md, "The control channel"). One
// request a connection, one line: the verb. The daemon answers with lines of the form
// "<kind> <message>": `taken` once it has acted on the request (all --no-wait waits for), then
// one of `done` or `failed` with the outcome; `refused` instead when it will not act (a peer it
// does not trust, a verb it does not know). Pure parsing and formatting, so both ends and the
// fuzzer share one definition.

#include "common/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace halo {

// A request longer than this is not one of ours; the daemon stops reading there.
inline constexpr std::size_t kControlRequestMax = 64;
// A reply line longer than this is cut (the client reads no further).
inline constexpr std::size_t kControlReplyMax = 4096;

enum class ControlVerb { status, restart, stop, start, reload, smoke };
std::string_view to_string(ControlVerb verb) noexcept;

// `bytes`: what the peer sent so far. The verb once a whole line is there; an Error naming what
// is wrong (printable) otherwise. `complete` is false while a line may still be arriving.
struct ControlRequest {
    bool complete = false;
    ControlVerb verb = ControlVerb::status;
};
Result<ControlRequest> parse_control_request(std::string_view bytes);

enum class ControlReplyKind { taken, done, failed, refused };
struct ControlReply {
    ControlReplyKind kind = ControlReplyKind::done;
    std::string message;
};
// One line, the message made printable and cut to fit kControlReplyMax.
std::string format_control_reply(const ControlReply& reply);
// One line without its newline.
Result<ControlReply> parse_control_reply(std::string_view line);

} // namespace halo
