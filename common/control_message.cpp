#include "common/control_message.hpp"

#include "common/printable.hpp"

#include <array>
#include <utility>

namespace halo {

namespace {

constexpr std::array<std::pair<ControlVerb, std::string_view>, 6> kVerbs = {{{ControlVerb::status, "status"},
                                                                             {ControlVerb::restart, "restart"},
                                                                             {ControlVerb::stop, "stop"},
                                                                             {ControlVerb::start, "start"},
                                                                             {ControlVerb::reload, "reload"},
                                                                             {ControlVerb::smoke, "smoke"}}};

constexpr std::array<std::pair<ControlReplyKind, std::string_view>, 4> kKinds = {
    {{ControlReplyKind::taken, "taken"},
     {ControlReplyKind::done, "done"},
     {ControlReplyKind::failed, "failed"},
     {ControlReplyKind::refused, "refused"}}};

} // namespace

std::string_view to_string(ControlVerb verb) noexcept
{
    for (const auto& [v, name] : kVerbs) {
        if (v == verb) return name;
    }
    return "?";
}

Result<ControlRequest> parse_control_request(std::string_view bytes)
{
    const std::size_t end = bytes.find('\n');
    if (end == std::string_view::npos) {
        if (bytes.size() >= kControlRequestMax) {
            return Error{"request longer than " + std::to_string(kControlRequestMax) + " bytes"};
        }
        return ControlRequest{};
    }
    if (end + 1 != bytes.size()) return Error{"more than one request on one connection"};
    const std::string_view verb = bytes.substr(0, end);
    for (const auto& [v, name] : kVerbs) {
        if (verb == name) return ControlRequest{true, v};
    }
    return Error{"unknown request '" + printable(verb) + "'"};
}

std::string format_control_reply(const ControlReply& reply)
{
    std::string_view kind = "done";
    for (const auto& [k, name] : kKinds) {
        if (k == reply.kind) kind = name;
    }
    std::string line = std::string(kind) + " " + printable(reply.message);
    if (line.size() > kControlReplyMax - 1) line.resize(kControlReplyMax - 1);
    return line + "\n";
}

Result<ControlReply> parse_control_reply(std::string_view line)
{
    const std::size_t space = line.find(' ');
    const std::string_view kind = line.substr(0, space);
    const std::string_view message = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    for (const auto& [k, name] : kKinds) {
        if (kind == name) return ControlReply{k, printable(message)};
    }
    return Error{"not a halo-checkd reply: '" + printable(line.substr(0, 80)) + "'"};
}

} // namespace halo
