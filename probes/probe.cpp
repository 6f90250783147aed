#include "probes/probe.hpp"

#include <fmt/core.h>

namespace halo::probes {

void FactSink::set(std::string key, std::string value, std::string_view origin)
{
    std::string source = origin.empty() ? m_probe : fmt::format("{}:{}", m_probe, origin);
    m_facts.set(std::move(key), std::move(value), std::move(source));
}

void FactSink::unknown(std::string pattern, std::string reason)
{
    m_facts.mark_unknown(std::move(pattern), fmt::format("{}: {}", m_probe, reason));
}

rules::ProbeStatus status_ok() { return {rules::ProbeState::ok, {}, 0}; }

rules::ProbeStatus status_partial(std::string reason) { return {rules::ProbeState::partial, std::move(reason), 0}; }

rules::ProbeStatus status_failed(std::string reason) { return {rules::ProbeState::failed, std::move(reason), 0}; }

rules::ProbeStatus status_not_applicable(std::string reason)
{
    return {rules::ProbeState::not_applicable, std::move(reason), 0};
}

} // namespace halo::probes
