#pragma once
// Facts: what is known about one machine. Dotted keys with string values and where each came
// from, the status of each probe that ran, and the key patterns that are *unknown* (their probe
// failed or did not run), so the evaluator can tell "missing because unknown" from "absent".

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::rules {

struct Fact {
    std::string value;
    std::string source; // "kernel:/proc/cmdline", "file:facts.toml", "config:/etc/halo-check/config.toml"
};

enum class ProbeState { ok, partial, failed, not_applicable, not_run };

std::string_view to_string(ProbeState state) noexcept;
std::optional<ProbeState> probe_state_from_string(std::string_view text) noexcept;

struct ProbeStatus {
    ProbeState state = ProbeState::ok;
    std::string reason;    // empty for ok
    double elapsed_ms = 0; // how long it took; 0 when not measured
};

struct Snapshot {
    std::string taken; // RFC 3339
    std::string host;
    std::string halo_check_version;
};

class Facts {
public:
    // Sets or replaces one fact.
    void set(std::string key, std::string value, std::string source = {});
    void erase(std::string_view key);
    const Fact* find(std::string_view key) const;
    std::optional<std::string> get(std::string_view key) const;
    bool contains(std::string_view key) const { return find(key) != nullptr; }

    // Keys matching a pattern whose dot-separated segments may be `*` (one whole segment).
    std::vector<std::string> keys_matching(std::string_view pattern) const;

    // Marks keys matching `pattern` as unknown (probe failed or not run), with the reason.
    void mark_unknown(std::string pattern, std::string reason);
    // The reason a missing key is unknown, or nullopt when a missing key is simply absent.
    std::optional<std::string> unknown_reason(std::string_view key) const;
    const std::map<std::string, std::string>& unknown() const { return m_unknown; }

    void set_probe_status(std::string probe, ProbeStatus status);
    const std::map<std::string, ProbeStatus>& probes() const { return m_probes; }

    // Later facts, statuses and unknown patterns win; an unknown pattern is dropped once a fact
    // under it is set by `other`.
    void merge(const Facts& other);

    const std::map<std::string, Fact, std::less<>>& all() const { return m_facts; }
    bool empty() const { return m_facts.empty(); }
    std::size_t size() const { return m_facts.size(); }

    Snapshot snapshot;

private:
    std::map<std::string, Fact, std::less<>> m_facts;
    std::map<std::string, std::string> m_unknown; // pattern -> reason
    std::map<std::string, ProbeStatus> m_probes;
};

// True when `key` matches `pattern` segment by segment, `*` matching one whole segment, and a
// trailing `*` segment matching one or more segments (`vulkan.*` covers `vulkan.0.name`).
// The reason the runner gives a probe's keys when --only/--skip left it out: rules that need them
// are "not checked", which is not the same as undecided.
inline constexpr std::string_view k_not_selected_reason = "was not run (--only/--skip)";

bool key_matches(std::string_view pattern, std::string_view key) noexcept;

} // namespace halo::rules
