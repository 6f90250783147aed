#pragma once
// A probe: a stable id, a one-line summary, the sources it reads, the fact keys it provides, and
// one job, collect(): read its sources through the Host and emit facts. A probe never throws past
// collect() (the runner still catches, as a last line), never exits, never hangs; a failure is
// its returned status, and the runner then marks the keys it provides *unknown*.

#include "probes/host.hpp"
#include "rules/facts.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

// What a probe writes to. Records the probe as each fact's source.
class FactSink {
public:
    FactSink(rules::Facts& facts, std::string probe_id) : m_facts(facts), m_probe(std::move(probe_id)) {}
    // `origin`: the file or call the value came from ("/proc/cmdline", "drmGetVersion").
    void set(std::string key, std::string value, std::string_view origin = {});
    // Keys under `pattern` could not be read (partial failure): the evaluator treats them unknown.
    void unknown(std::string pattern, std::string reason);
    const std::string& probe_id() const noexcept { return m_probe; }
    rules::Facts& facts() noexcept { return m_facts; }

private:
    rules::Facts& m_facts;
    std::string m_probe;
};

struct ProbeContext {
    const Host& host;
    std::chrono::milliseconds budget{5000};
    // The engine's argv when given on the command line (`halo-check run -- CMD…`); otherwise the
    // engine probe reads it from the configuration.
    std::optional<std::vector<std::string>> engine_command;
    // An explicit config file (`--config`); otherwise the default search path.
    std::optional<std::string> config_path;
    // Packages the packages probe asks about; empty = its default list.
    std::vector<std::string> packages;
    // Where the configuration is looked up and read. The programs pass this machine
    // (`Host("/")`): the configuration is theirs, and --root moves only the machine being judged,
    // whose files (the model, the engine program) the config then names. Unset: `host`, so a
    // fixture tree that carries its own config is judged with it.
    std::optional<Host> config_host{};
};

using CollectFn = rules::ProbeStatus (*)(const ProbeContext&, FactSink&);

struct ProbeInfo {
    std::string_view id;
    std::string_view summary;
    std::span<const std::string_view> sources;  // paths and calls it reads
    std::span<const std::string_view> provides; // key patterns it sets ("kernel.*")
    // Ids of the probes whose facts collect() reads (through FactSink::facts()): the registry
    // runs it after them, and check_probe_order() (probes/registry.hpp) holds the table to that.
    std::span<const std::string_view> reads;
    bool isolated; // loads a driver: run in a child with a deadline
    CollectFn collect;
};

// Helpers for probe code.
rules::ProbeStatus status_ok();
rules::ProbeStatus status_partial(std::string reason);
rules::ProbeStatus status_failed(std::string reason);
rules::ProbeStatus status_not_applicable(std::string reason);

} // namespace halo::probes
