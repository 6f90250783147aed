#include "daemon/control_outcome.hpp"

#include <fmt/core.h>

namespace halo::app {

namespace {

const nlohmann::json& section(const nlohmann::json& j, const char* name)
{
    static const nlohmann::json empty = nlohmann::json::object();
    return j.is_object() && j.contains(name) && j[name].is_object() ? j[name] : empty;
}

long long counter(const nlohmann::json& j, const char* name)
{
    const nlohmann::json& d = section(j, "daemon");
    return d.contains(name) && d[name].is_number_integer() ? d[name].get<long long>() : 0;
}

std::string text(const nlohmann::json& j, const char* key)
{
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) return {};
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

ControlOutcome waiting(std::string message) { return {Progress::waiting, std::move(message)}; }
ControlOutcome done(std::string message) { return {Progress::done, std::move(message)}; }
ControlOutcome failed(std::string message) { return {Progress::failed, std::move(message)}; }

ControlOutcome engine_started(const nlohmann::json& now)
{
    const nlohmann::json& v = section(now, "verdict");
    const nlohmann::json& e = section(now, "engine");
    if (v.contains("allowed") && v["allowed"].is_boolean() && !v["allowed"].get<bool>()) {
        return failed(fmt::format("the engine was not started: verdict {}; {}", text(v, "verdict"), text(v, "reason")));
    }
    const std::string state = text(e, "state");
    if (state == "ready") return done(fmt::format("engine {} ready", text(e, "name")));
    if (state == "failed" || state == "given_up" || state == "refused") {
        return failed(fmt::format("engine {} {}: {}", text(e, "name"), state, text(e, "reason")));
    }
    return waiting(fmt::format("engine {} {}", text(e, "name"), state.empty() ? "starting" : state));
}

} // namespace

ControlOutcome control_outcome(std::string_view verb, const nlohmann::json& before, const nlohmann::json& now)
{
    const nlohmann::json& d = section(now, "daemon");
    if (verb == "reload") {
        // A reload comes by signal, not the request file: its evaluation is what answers.
        if (counter(now, "evaluations") <= counter(before, "evaluations")) return waiting("the reload");
        if (const std::string error = text(d, "reload_error"); !error.empty()) {
            return failed("reload failed: " + error);
        }
        return done(fmt::format("reloaded: verdict {}", text(section(now, "verdict"), "verdict")));
    }
    if (counter(now, "requests_handled") <= counter(before, "requests_handled")) {
        return waiting(fmt::format("halo-checkd to take the {} request", verb));
    }
    if (const std::string error = text(d, "request_error"); !error.empty()) return failed(error);
    if (verb == "restart") {
        // The engine that was ready before the restart is not the answer.
        const nlohmann::json& e = section(now, "engine");
        if (text(e, "state") == "ready" && text(e, "since") == text(section(before, "engine"), "since") &&
            text(section(before, "engine"), "state") == "ready") {
            return waiting(fmt::format("engine {} to restart", text(e, "name")));
        }
    }
    if (verb == "restart" || verb == "start") return engine_started(now);
    if (verb == "stop") {
        const std::string state = text(section(now, "engine"), "state");
        if (state == "stopped") return done("engine stopped");
        return waiting("engine " + state);
    }
    if (verb == "smoke") {
        const nlohmann::json& e = section(now, "engine");
        const nlohmann::json smoke = e.contains("smoke") ? e["smoke"] : nlohmann::json();
        const nlohmann::json& old = section(before, "engine");
        if (old.contains("smoke") && old["smoke"] == smoke) return waiting("the smoke test's answer");
        if (!smoke.is_object()) return waiting("the smoke test's answer");
        if (!smoke.value("ok", false)) return failed("smoke test failed: " + text(smoke, "error"));
        return done(fmt::format("smoke test passed: {:.0f} ms, {} tokens, generation {:.1f} t/s",
                                smoke.value("latency_ms", 0.0), smoke.value("completion_tokens", 0),
                                smoke.value("predicted_per_second", 0.0)));
    }
    return done("done");
}

} // namespace halo::app
