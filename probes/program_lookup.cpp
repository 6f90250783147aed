#include "probes/program_lookup.hpp"

#include <fmt/core.h>

#include <optional>

namespace halo::probes {

namespace {

enum class Candidate { runs, not_executable, absent };

Candidate check(const Host& host, const std::string& path)
{
    auto info = host.stat(path);
    if (!info) return Candidate::absent;
    // execve() wants a regular file with an execute bit this user may use (a directory: EACCES).
    if (!info->is_regular || !host.executable(path)) return Candidate::not_executable;
    return Candidate::runs;
}

ProgramLookup by_path(const Host& host, const std::string& path)
{
    if (!path.starts_with('/') && !host.is_live()) {
        return {ProgramLookup::Outcome::undecidable,
                fmt::format("'{}' is relative to a working directory that a machine under a root does not have", path)};
    }
    switch (check(host, path)) {
    case Candidate::runs: return {ProgramLookup::Outcome::found, path};
    case Candidate::not_executable:
        return {ProgramLookup::Outcome::missing, fmt::format("'{}' exists but is not an executable file", path)};
    case Candidate::absent: break;
    }
    return {ProgramLookup::Outcome::missing, fmt::format("'{}' does not exist", path)};
}

} // namespace

ProgramLookup find_program(const Host& host, std::string_view name)
{
    if (name.empty()) return {ProgramLookup::Outcome::missing, "the command names an empty program"};
    if (name.find('/') != std::string_view::npos) return by_path(host, std::string(name));

    std::optional<std::string> search = host.env("PATH");
    if (!search && host.is_live()) search = "/bin:/usr/bin";
    if (!search) {
        return {ProgramLookup::Outcome::undecidable,
                fmt::format("a machine under a root has no $PATH to look '{}' up in", name)};
    }
    std::string not_executable;
    std::string_view rest = *search;
    while (true) {
        const auto colon = rest.find(':');
        const std::string_view dir = rest.substr(0, colon);
        // An empty entry is the working directory, which only the live machine has.
        if (!dir.empty() || host.is_live()) {
            const std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, name);
            const Candidate c = check(host, candidate);
            if (c == Candidate::runs) return {ProgramLookup::Outcome::found, candidate};
            if (c == Candidate::not_executable && not_executable.empty()) not_executable = candidate;
        }
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    if (!not_executable.empty()) {
        return {ProgramLookup::Outcome::missing,
                fmt::format("'{}' is on $PATH as '{}', which is not an executable file", name, not_executable)};
    }
    return {ProgramLookup::Outcome::missing, fmt::format("'{}' is not in any directory of $PATH ({})", name, *search)};
}

} // namespace halo::probes
