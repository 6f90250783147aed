// The state file's reader: whatever state.json holds (a foreign version, a hand edit, a truncated
// write, megabytes of nesting), StateStore::read() gives a JSON object or an error naming the
// file, and what halo-check status and the control verbs take from it (the engine's status, the
// smoke figures, a control outcome) comes back or is absent, never an exception.
// -max_len: state.json holds facts and output lines: tens of KiB, capped at 16 MiB.
// fuzz-max-len: 1048576
#include "daemon/control_outcome.hpp"
#include "daemon/state_store.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const std::string& state_dir()
{
    static const std::string dir = [] {
        char tmpl[] = "/tmp/halo-fuzz-state-XXXXXX";
        const char* made = ::mkdtemp(tmpl);
        if (!made) std::abort();
        return std::string(made);
    }();
    return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const halo::app::StateStore store(state_dir());
    std::FILE* f = std::fopen(store.path().c_str(), "wb");
    if (!f) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    auto j = store.read();
    if (!j) {
        if (j.error().message.find(store.path()) == std::string::npos) std::abort();
        return 0;
    }
    if (!j->is_object()) std::abort();
    if (j->contains("engine")) {
        const nlohmann::json& engine = (*j)["engine"];
        (void)halo::app::engine_status_from_json(engine);
        if (engine.is_object() && engine.contains("smoke_last_good"))
            (void)halo::app::smoke_from_json(engine["smoke_last_good"]);
    }
    const nlohmann::json before = nlohmann::json::object();
    for (const char* verb : {"restart", "reload", "stop", "start", "smoke"}) {
        (void)halo::app::control_outcome(verb, before, *j);
        (void)halo::app::control_outcome(verb, *j, *j);
    }
    return 0;
}
