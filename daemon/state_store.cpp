#include "daemon/state_store.hpp"

#include "common/bounded_read.hpp"
#include "daemon/atomic_file.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace halo::app {

std::string default_state_dir()
{
    if (const char* s = std::getenv("STATE_DIRECTORY"); s && *s) {
        // systemd may pass several, separated by ':'; ours is the first.
        const std::string dirs(s);
        return dirs.substr(0, dirs.find(':'));
    }
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/halo-check";
    if (const char* h = std::getenv("HOME"); h && *h && ::getuid() != 0)
        return std::string(h) + "/.local/state/halo-check";
    return "/var/lib/halo-check";
}

namespace {

// The process's umask, which only umask() itself reports: read once, put straight back.
mode_t process_umask()
{
    static const mode_t mask = [] {
        const mode_t m = ::umask(022);
        ::umask(m);
        return m;
    }();
    return mask;
}

} // namespace

Result<void> StateStore::prepare() const
{
    std::error_code ec;
    // The parents as any directory; the state directory itself private (0700) from the start.
    const std::filesystem::path dir(m_dir);
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
    if (!ec && ::mkdir(m_dir.c_str(), 0700) < 0 && errno != EEXIST)
        ec = std::error_code(errno, std::generic_category());
    if (ec) {
        return Error{
            fmt::format("Failed to create state directory '{}': {}; pass --state-dir DIR", m_dir, ec.message())};
    }
    return {};
}

Result<void> StateStore::write(const nlohmann::ordered_json& state) const
{
    const std::string text = state.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    // 0666 less the umask, as any file created: UMask=0077 in the unit makes it 0600.
    return write_file_atomically(path(), text, 0666 & ~process_umask());
}

Result<nlohmann::json> StateStore::read() const
{
    auto text = read_bounded_file(path(), state_file_max_bytes);
    if (!text) return Error{"Failed to read state file: " + text.error().message, text.error().errno_value};
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return Error{fmt::format("Failed to read state file '{}': not a JSON object", path())};
    }
    return j;
}

Result<std::string> StateStore::set_aside(std::time_t now) const
{
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    const std::string aside = path() + ".bad-" + stamp;
    if (::rename(path().c_str(), aside.c_str()) != 0) {
        const int err = errno;
        return Error{fmt::format("Failed to set the state file '{}' aside as '{}': {}; remove it by hand", path(),
                                 aside, std::strerror(err)),
                     err};
    }
    return aside;
}

nlohmann::ordered_json to_json(const SmokeFigures& f)
{
    nlohmann::ordered_json j = {{"ok", f.ok},
                                {"at", f.at},
                                {"latency_ms", f.latency_ms},
                                {"prompt_tokens", f.prompt_tokens},
                                {"completion_tokens", f.completion_tokens},
                                {"prompt_per_second", f.prompt_per_second},
                                {"predicted_per_second", f.predicted_per_second}};
    if (!f.error.empty()) j["error"] = f.error;
    return j;
}

std::optional<SmokeFigures> smoke_from_json(const nlohmann::json& j)
{
    if (!j.is_object()) return std::nullopt;
    SmokeFigures f;
    try {
        f.ok = j.value("ok", false);
        f.at = j.value("at", "");
        f.latency_ms = j.value("latency_ms", 0.0);
        f.prompt_tokens = j.value("prompt_tokens", 0L);
        f.completion_tokens = j.value("completion_tokens", 0L);
        f.prompt_per_second = j.value("prompt_per_second", 0.0);
        f.predicted_per_second = j.value("predicted_per_second", 0.0);
        f.error = j.value("error", "");
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // a hand-edited or foreign file: start without the old figures
    }
    return f;
}

std::optional<EngineStatus> engine_status_from_json(const nlohmann::json& j)
{
    if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) return std::nullopt;
    EngineStatus s;
    const std::string state = j["state"].get<std::string>();
    bool known = false;
    for (EngineState e : {EngineState::stopped, EngineState::refused, EngineState::starting, EngineState::loading,
                          EngineState::ready, EngineState::unhealthy, EngineState::stopping, EngineState::backoff,
                          EngineState::given_up, EngineState::failed}) {
        if (to_string(e) == state) {
            s.state = e;
            known = true;
        }
    }
    if (!known) return std::nullopt;
    try {
        s.since = j.value("since", "");
        s.reason = j.value("reason", "");
        s.restarts_total = j.value("restarts_total", std::uint64_t{0});
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // a hand-edited or foreign file: no engine figures
    }
    s.smoke = smoke_from_json(j.value("smoke", nlohmann::json()));
    s.smoke_good = smoke_from_json(j.value("smoke_last_good", nlohmann::json()));
    s.api = api_results_from_json(j.value("api", nlohmann::json()));
    return s;
}

nlohmann::ordered_json to_json(const EngineStatus& s, std::size_t output_lines)
{
    nlohmann::ordered_json j = {
        {"state", std::string(to_string(s.state))},
        {"since", s.since},
        {"reason", s.reason},
        {"pid", s.pid > 0 ? nlohmann::ordered_json(s.pid) : nlohmann::ordered_json(nullptr)},
        {"listener_pid", s.listener_pid > 0 ? nlohmann::ordered_json(s.listener_pid) : nlohmann::ordered_json(nullptr)},
        {"liveness_failures", s.liveness_failures}};
    nlohmann::ordered_json restarts = nlohmann::ordered_json::array();
    for (const RestartRecord& r : s.restarts) restarts.push_back({{"at", r.at}, {"reason", r.reason}});
    j["restarts"] = restarts;
    j["restarts_total"] = s.restarts_total;
    if (s.last_crash) {
        const CrashReason& c = *s.last_crash;
        j["last_crash"] = {{"at", c.at}, {"exit", c.exit}};
        if (!c.pattern_id.empty()) {
            j["last_crash"]["pattern"] = {
                {"id", c.pattern_id}, {"title", c.title}, {"severity", c.severity}, {"fix", c.fix}, {"line", c.line}};
        }
    } else {
        j["last_crash"] = nullptr;
    }
    j["smoke"] = s.smoke ? to_json(*s.smoke) : nlohmann::ordered_json(nullptr);
    j["smoke_last_good"] = s.smoke_good ? to_json(*s.smoke_good) : nlohmann::ordered_json(nullptr);
    j["api"] = s.api ? to_json(*s.api) : nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    const std::size_t skip = s.output.size() > output_lines ? s.output.size() - output_lines : 0;
    for (std::size_t i = skip; i < s.output.size(); ++i) out.push_back(s.output[i]);
    j["output_tail"] = out;
    return j;
}

} // namespace halo::app
