// bench_smoke_cost: what halo-checkd adds to a smoke test.
//
//   bench_smoke_cost STATE_DIR DAEMON_PID PORT RUNS HALO_CHECK TIMEOUT_S
//
// halo-checkd (DAEMON_PID, state in STATE_DIR) supervises a ready engine on PORT. RUNS times,
// alternating which goes first:
//   daemon — `HALO_CHECK smoke --state-dir STATE_DIR`, then wait (inotify) for a new
//            engine.smoke in the state file; its latency_ms is the daemon's own timing of the
//            request. Also the time from starting halo-check to the new figures in the file, and
//            the daemon's CPU time across it: utime+stime from /proc/PID/stat (clock ticks) and
//            the nanosecond run time from /proc/PID/task/*/schedstat.
//   direct — the same request (smoke_request_body, the daemon's own body; the same libcurl
//            options) sent with one libcurl easy handle from here, timed around curl_easy_perform.
// Both answers carry llama-server's own timings (prompt and generation rates), so each latency
// splits into the engine's time and the time outside it; the daemon's added latency is the
// difference of the outside parts, free of the run-to-run noise of generation on a busy machine.
// After the runs, the daemon's CPU over idle spans as long as the daemon runs' is the floor.

#include "daemon/checkd/engine_checks.hpp"
#include "engine_bench_support.hpp"

#include <curl/curl.h>

#include <cmath>
#include <dirent.h>

using namespace halo::bench;

namespace {

constexpr int k_settle_ms = 200; // after the new figures: the daemon's log line and state write
constexpr int k_pause_ms = 300;  // before each request

long stat_ticks(long pid)
{
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string line;
    std::getline(in, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    long utime = 0, stime = 0;
    // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
    for (int f = 3; f <= 15 && rest >> field; ++f) {
        if (f == 14) utime = std::stol(field);
        if (f == 15) stime = std::stol(field);
    }
    return utime + stime;
}

// Summed over the threads alive now: a thread that exited between two readings takes its time
// with it, which /proc/PID/stat keeps; the two figures are printed side by side for that reason.
double sched_ms(long pid)
{
    const std::string tasks = fmt::format("/proc/{}/task", pid);
    DIR* d = ::opendir(tasks.c_str());
    if (!d) return -1;
    double ns = 0;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream in(tasks + "/" + e->d_name + "/schedstat");
        double run = 0;
        if (in >> run) ns += run;
    }
    ::closedir(d);
    return ns / 1e6;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* out)
{
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// One smoke answer: the latency its client measured and llama-server's figures for it.
struct Sample {
    double latency_ms = -1;
    long prompt_tokens = 0, tokens = 0;
    double prompt_per_second = 0, predicted_per_second = 0;
    double prompt_ms = -1, predicted_ms = -1; // where the answer itself is at hand (direct)
};

// The engine's time from its rates, which is all the state file keeps. This llama-server build
// divides by one token fewer than it generated (predicted_per_second = (n - 1) / predicted_ms):
// `uncounted` carries that, learnt from a direct answer, where predicted_ms is at hand.
double engine_ms(const Sample& s, double uncounted)
{
    if (s.prompt_ms >= 0 && s.predicted_ms >= 0) return s.prompt_ms + s.predicted_ms;
    double ms = 0;
    if (s.prompt_per_second > 0) ms += 1000.0 * static_cast<double>(s.prompt_tokens) / s.prompt_per_second;
    if (s.predicted_per_second > 0)
        ms += 1000.0 * std::max(0.0, static_cast<double>(s.tokens) - uncounted) / s.predicted_per_second;
    return ms;
}

double uncounted_tokens(const Sample& s)
{
    return std::round(static_cast<double>(s.tokens) - s.predicted_ms * s.predicted_per_second / 1000.0);
}

Sample direct(int port, int timeout_s)
{
    const std::string url = fmt::format("http://127.0.0.1:{}/v1/chat/completions", port);
    const std::string body = halo::checkd::smoke_request_body(std::nullopt);
    std::string answer;
    CURL* e = curl_easy_init();
    if (!e) return {};
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s) * 1000L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
    const double t0 = mono_ms();
    const CURLcode rc = curl_easy_perform(e);
    const double t1 = mono_ms();
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(e);
    Sample a;
    const auto j = nlohmann::json::parse(answer, nullptr, false);
    if (rc != CURLE_OK || status != 200 || !j.is_object()) return a;
    const auto usage = j.value("usage", nlohmann::json::object());
    const auto timings = j.value("timings", nlohmann::json::object());
    a.tokens = usage.value("completion_tokens", 0L);
    a.prompt_tokens = usage.value("prompt_tokens", 0L);
    a.prompt_per_second = timings.value("prompt_per_second", 0.0);
    a.predicted_per_second = timings.value("predicted_per_second", 0.0);
    a.prompt_ms = timings.value("prompt_ms", -1.0);
    a.predicted_ms = timings.value("predicted_ms", -1.0);
    a.latency_ms = t1 - t0;
    return a;
}

struct DaemonRun {
    Sample smoke;
    double trigger_ms = -1, ticks = 0, cpu_ms = 0;
};

DaemonRun via_daemon(StateWatch& watch, const std::string& dir, long daemon, const std::string& check, int timeout_s)
{
    DaemonRun r;
    const std::string before = watch.read()["engine"].value("smoke", nlohmann::json()).dump();
    const long ticks0 = stat_ticks(daemon);
    const double cpu0 = sched_ms(daemon);
    const double t0 = mono_ms();
    const pid_t pid = spawn({check, "smoke", "--state-dir", dir});
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return r;
    nlohmann::json smoke;
    const bool seen = watch.until(
        [&](const nlohmann::json& s, double at) {
            if (!s.is_object() || !s.contains("engine")) return false;
            smoke = s["engine"].value("smoke", nlohmann::json());
            if (smoke.is_null() || smoke.dump() == before) return false;
            r.trigger_ms = at - t0;
            return true;
        },
        mono_ms() + timeout_s * 1000.0);
    if (!seen || !smoke.value("ok", false)) return r;
    ::usleep(k_settle_ms * 1000);
    r.ticks = static_cast<double>(stat_ticks(daemon) - ticks0);
    r.cpu_ms = sched_ms(daemon) - cpu0;
    r.smoke.latency_ms = smoke.value("latency_ms", -1.0);
    r.smoke.tokens = smoke.value("completion_tokens", 0L);
    r.smoke.prompt_tokens = smoke.value("prompt_tokens", 0L);
    r.smoke.prompt_per_second = smoke.value("prompt_per_second", 0.0);
    r.smoke.predicted_per_second = smoke.value("predicted_per_second", 0.0);
    return r;
}

struct Series {
    std::vector<double> latency, engine, outside;
    long tokens = 0;
    void add(const Sample& s, double uncounted)
    {
        latency.push_back(s.latency_ms);
        engine.push_back(engine_ms(s, uncounted));
        outside.push_back(s.latency_ms - engine.back());
        tokens += s.tokens;
    }
};

int run(const std::string& dir, long daemon, int port, int runs, const std::string& check, int timeout_s)
{
    StateWatch watch(dir);
    if (!watch.ok()) {
        fmt::print(stderr, "bench_smoke_cost: error: Failed to watch '{}' with inotify: {}\n", dir,
                   std::strerror(errno));
        return 1;
    }
    // The smoke test after ready must be done: the runs must not overlap it.
    const bool ready = watch.until(
        [](const nlohmann::json& s, double) {
            return engine_state(s) == "ready" && s["engine"].contains("smoke_last_good") &&
                   !s["engine"]["smoke_last_good"].is_null();
        },
        mono_ms() + timeout_s * 1000.0);
    if (!ready) {
        fmt::print(stderr, "bench_smoke_cost: error: no ready engine with a good smoke test within {} s\n", timeout_s);
        return 1;
    }
    const Sample warm = direct(port, timeout_s); // also a warm-up: the first request after load is slower
    if (warm.latency_ms < 0) {
        fmt::print(stderr, "bench_smoke_cost: error: the direct request to port {} failed\n", port);
        return 1;
    }
    const double uncounted = uncounted_tokens(warm);
    fmt::print("generated tokens the engine's predicted_per_second leaves out: {:.0f}\n", uncounted);
    Series via, own;
    std::vector<double> trigger, cpu;
    double ticks = 0;
    for (int i = 1; i <= runs; ++i) {
        DaemonRun d;
        Sample c;
        // The same pause before either request: an engine just done with one answer may still
        // be finishing it when the next arrives.
        auto daemon_half = [&] {
            ::usleep(k_pause_ms * 1000);
            d = via_daemon(watch, dir, daemon, check, timeout_s);
        };
        auto direct_half = [&] {
            ::usleep(k_pause_ms * 1000);
            c = direct(port, timeout_s);
        };
        if (i % 2) {
            daemon_half();
            direct_half();
        } else {
            direct_half();
            daemon_half();
        }
        if (d.smoke.latency_ms < 0 || c.latency_ms < 0) {
            fmt::print(stderr, "bench_smoke_cost: error: run {}: the {} smoke request failed\n", i,
                       d.smoke.latency_ms < 0 ? "daemon's" : "direct");
            return 1;
        }
        via.add(d.smoke, uncounted);
        own.add(c, uncounted);
        trigger.push_back(d.trigger_ms);
        cpu.push_back(d.cpu_ms);
        ticks += d.ticks;
        fmt::print("run {:2}: daemon {:7.1f} ms (engine {:7.1f}, {} tokens; halo-check smoke → state {:7.1f} ms; CPU "
                   "{:.2f} ms, {} ticks)   direct {:7.1f} ms (engine {:7.1f}, {} tokens)\n",
                   i, d.smoke.latency_ms, via.engine.back(), d.smoke.tokens, d.trigger_ms, d.cpu_ms, d.ticks,
                   c.latency_ms, own.engine.back(), c.tokens);
        std::fflush(stdout);
    }
    // The floor: the daemon's CPU over an idle stretch as long as one measured daemon run.
    const double window = summarize(trigger).median + k_settle_ms;
    const long t0 = stat_ticks(daemon);
    const double c0 = sched_ms(daemon);
    ::usleep(static_cast<useconds_t>(window * 1000 * runs));
    const double idle_ticks = static_cast<double>(stat_ticks(daemon) - t0);
    const double idle_ms = sched_ms(daemon) - c0;

    const double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    const Summary sd = summarize(via.latency), sc = summarize(own.latency);
    const Summary od = summarize(via.outside), oc = summarize(own.outside);
    fmt::print("daemon smoke.latency_ms:             {}; {:.1f} tokens on average\n", summary_text(via.latency),
               static_cast<double>(via.tokens) / runs);
    fmt::print("direct (libcurl easy, same body):    {}; {:.1f} tokens on average\n", summary_text(own.latency),
               static_cast<double>(own.tokens) / runs);
    fmt::print("ratio of medians daemon/direct:      {:.3f} (difference {:+.1f} ms)\n", sd.median / sc.median,
               sd.median - sc.median);
    // The fake engine reports fixed rates, not its time: there the split means nothing.
    auto inside = [](const Series& x) {
        return std::all_of(x.outside.begin(), x.outside.end(), [](double o) { return o >= 0; }) &&
               std::all_of(x.engine.begin(), x.engine.end(), [](double e) { return e > 0; });
    };
    if (inside(via) && inside(own)) {
        fmt::print("engine's own time, daemon's request: {}\n", summary_text(via.engine));
        fmt::print("engine's own time, direct request:   {}\n", summary_text(own.engine));
        fmt::print("outside the engine's time, daemon:   {}\n", summary_text(via.outside));
        fmt::print("outside the engine's time, direct:   {}\n", summary_text(own.outside));
        fmt::print("  → the daemon's added latency (difference of those medians): {:+.2f} ms\n", od.median - oc.median);
    } else {
        fmt::print("engine's own timings exceed the latency: not the engine's time (a fake engine); no split\n");
    }
    fmt::print("halo-check smoke → figures in state: {}\n", summary_text(trigger));
    fmt::print("daemon CPU per smoke (schedstat):    {}\n", summary_text(cpu));
    fmt::print("daemon CPU per smoke (/proc/stat):   {:.0f} ticks in {} runs = {:.2f} ms per smoke (tick {:.0f} ms)\n",
               ticks, runs, ticks * tick_ms / runs, tick_ms);
    fmt::print("daemon CPU idle floor, same span:    {:.3f} ms per span (schedstat), {:.0f} ticks in {} spans\n",
               idle_ms / runs, idle_ticks, runs);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() != 6) {
        fmt::print(stderr, "usage: bench_smoke_cost STATE_DIR DAEMON_PID PORT RUNS HALO_CHECK TIMEOUT_S\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    try {
        const int rc = run(a[0], std::stol(a[1]), std::stoi(a[2]), std::stoi(a[3]), a[4], std::stoi(a[5]));
        curl_global_cleanup();
        return rc;
    } catch (const std::invalid_argument&) {
        fmt::print(stderr, "bench_smoke_cost: error: DAEMON_PID, PORT, RUNS and TIMEOUT_S must be numbers\n");
    } catch (const std::out_of_range&) {
        fmt::print(stderr, "bench_smoke_cost: error: a number argument is out of range\n");
    } catch (const std::exception& e) {
        // A state file of an unexpected shape (nlohmann's type errors): the run cannot go on.
        fmt::print(stderr, "bench_smoke_cost: error: {}\n", e.what());
        return 1;
    }
    return 2;
}
