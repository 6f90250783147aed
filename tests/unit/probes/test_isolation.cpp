// The isolation runner against tiny probes that misbehave the way GPU drivers do: crash, abort,
// hang, leave a grandchild holding the pipe, write garbage, exit early, flood the pipe.

#include "probes/isolation.hpp"
#include "probes/runner.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace halo::probes;
using halo::rules::Facts;
using halo::rules::ProbeState;
using namespace std::chrono_literals;

namespace {

const std::string_view k_provides[] = {"test.*"};
std::string g_pid_file; // where a grandchild records its pid (the child inherits a copy)

Facts run(std::string_view id, CollectFn fn, std::chrono::milliseconds budget = 2000ms)
{
    Host host("/");
    ProbeContext context{host, budget, {}, {}, {}};
    Facts facts;
    facts.set("other.key", "kept");
    run_probe_isolated(ProbeInfo{id, "test probe", {}, k_provides, {}, true, fn}, context, facts);
    return facts;
}

halo::rules::ProbeStatus status_of(const Facts& facts, const std::string& id) { return facts.probes().at(id); }

[[noreturn]] void sleep_forever()
{
    for (;;) ::pause();
}

// Writes to every writable pipe this process holds (the answer pipe is one), then exits 0.
[[noreturn]] void write_to_pipes_and_exit(const std::string& data)
{
    std::signal(SIGPIPE, SIG_IGN); // other inherited pipes may have no reader
    for (int fd = 3; fd < 256; ++fd) {
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
        if ((::fcntl(fd, F_GETFL) & O_ACCMODE) != O_WRONLY) continue;
        std::size_t off = 0;
        while (off < data.size()) {
            const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
    }
    ::_exit(0);
}

void spawn_grandchild_holding_pipe()
{
    const pid_t gc = ::fork();
    if (gc == 0) {
        std::ofstream(g_pid_file) << ::getpid() << '\n';
        sleep_forever();
    }
    while (!std::filesystem::exists(g_pid_file) || std::filesystem::file_size(g_pid_file) == 0) ::usleep(1000);
}

// True when `pid` is gone or a zombie (killed; whoever inherited it has not reaped it yet).
bool dead(pid_t pid)
{
    if (::kill(pid, 0) != 0) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    return paren == std::string::npos || line.size() < paren + 3 || line[paren + 2] == 'Z';
}

pid_t read_pid_file()
{
    pid_t pid = 0;
    std::ifstream(g_pid_file) >> pid;
    return pid;
}

} // namespace

TEST_CASE("isolated probe success merges the child's facts and status", "[probes][isolation]")
{
    auto facts = run("good", [](const ProbeContext&, FactSink& sink) {
        sink.set("test.value", "0x00000083", "ioctl");
        sink.set("test.text", "with \"quotes\" and = signs\nand a newline");
        return status_partial("one source unreadable");
    });
    CHECK(facts.get("test.value") == std::optional<std::string>("0x00000083"));
    CHECK(facts.find("test.value")->source == "good:ioctl");
    CHECK(facts.get("test.text") == std::optional<std::string>("with \"quotes\" and = signs\nand a newline"));
    CHECK(facts.get("other.key") == std::optional<std::string>("kept"));
    const auto status = status_of(facts, "good");
    CHECK(status.state == ProbeState::partial);
    CHECK(status.reason == "one source unreadable");
    CHECK(status.elapsed_ms > 0);
    CHECK_FALSE(facts.unknown_reason("test.value"));
}

TEST_CASE("a probe that segfaults becomes 'crashed with SIGSEGV in the Vulkan driver'", "[probes][isolation]")
{
    auto facts = run("vulkan", [](const ProbeContext&, FactSink& sink) {
        sink.set("test.lost", "never arrives");
        std::raise(SIGSEGV);
        return status_ok();
    });
    const auto status = status_of(facts, "vulkan");
    CHECK(status.state == ProbeState::failed);
    CHECK(status.reason == "crashed with SIGSEGV in the Vulkan driver");
    CHECK_FALSE(facts.contains("test.lost"));
    CHECK(facts.unknown_reason("test.lost") ==
          std::optional<std::string>("vulkan probe failed: crashed with SIGSEGV in the Vulkan driver"));
    CHECK(facts.get("other.key") == std::optional<std::string>("kept"));
}

TEST_CASE("a probe that aborts becomes 'crashed with SIGABRT'", "[probes][isolation]")
{
    auto facts = run("drm", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus { std::abort(); });
    CHECK(status_of(facts, "drm").reason == "crashed with SIGABRT in the DRM/amdgpu driver (libdrm)");
}

TEST_CASE("a hanging probe is killed at the deadline", "[probes][isolation]")
{
    const auto start = std::chrono::steady_clock::now();
    auto facts = run(
        "hang", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus { sleep_forever(); }, 300ms);
    const auto status = status_of(facts, "hang");
    CHECK(status.state == ProbeState::failed);
    CHECK(status.reason == "no answer in 300 ms");
    CHECK(facts.unknown_reason("test.anything"));
    // Bounded: the deadline plus the kill, not forever (a generous bound; speed lives in bench/).
    CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("a grandchild that holds the pipe open neither blocks the answer nor survives", "[probes][isolation]")
{
    g_pid_file =
        (std::filesystem::temp_directory_path() / ("halo-isolation-gc-" + std::to_string(::getpid()))).string();
    std::filesystem::remove(g_pid_file);

    SECTION("the child answers and exits: its answer counts")
    {
        auto facts = run(
            "forker",
            [](const ProbeContext&, FactSink& sink) {
                spawn_grandchild_holding_pipe();
                sink.set("test.answered", "yes");
                return status_ok();
            },
            5000ms);
        CHECK(status_of(facts, "forker").state == ProbeState::ok);
        CHECK(facts.get("test.answered") == std::optional<std::string>("yes"));
        CHECK(status_of(facts, "forker").elapsed_ms < 5000); // did not wait for the deadline
    }
    SECTION("the child hangs too: the whole group dies at the deadline")
    {
        auto facts = run(
            "forker",
            [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus {
                spawn_grandchild_holding_pipe();
                sleep_forever();
            },
            300ms);
        CHECK(status_of(facts, "forker").reason == "no answer in 300 ms");
    }
    const pid_t grandchild = read_pid_file();
    REQUIRE(grandchild > 0);
    for (int i = 0; i < 200 && !dead(grandchild); ++i) ::usleep(5000);
    CHECK(dead(grandchild));
    std::filesystem::remove(g_pid_file);
}

TEST_CASE("garbage on the pipe becomes a failed status", "[probes][isolation]")
{
    auto facts = run("garbage", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus {
        write_to_pipes_and_exit("\x01\x02 this is [[[ not a facts file\n");
    });
    const auto status = status_of(facts, "garbage");
    CHECK(status.state == ProbeState::failed);
    CHECK(status.reason.rfind("garbage answer: ", 0) == 0);
    CHECK(facts.unknown_reason("test.x"));
}

TEST_CASE("a valid facts file without the probe's status is garbage too", "[probes][isolation]")
{
    auto facts = run("nostatus", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus {
        write_to_pipes_and_exit("[facts]\n\"test.x\" = \"1\"\n");
    });
    CHECK(status_of(facts, "nostatus").reason == "garbage answer: it holds no status for the probe");
    CHECK_FALSE(facts.contains("test.x"));
}

TEST_CASE("an answer over the cap is refused", "[probes][isolation]")
{
    auto facts = run("flood", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus {
        write_to_pipes_and_exit(std::string(k_isolation_answer_cap + 100, 'x'));
    });
    CHECK(status_of(facts, "flood").reason.find("answer larger than") == 0);
}

TEST_CASE("an early exit, an empty answer and an exception are failures with reasons", "[probes][isolation]")
{
    auto exited = run("exits", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus { ::_exit(7); });
    CHECK(status_of(exited, "exits").reason == "exited with status 7 in the exits probe before answering");

    auto empty = run("empty", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus { ::_exit(0); });
    CHECK(status_of(empty, "empty").reason == "no answer from the empty probe");

    auto threw = run(
        "throws", [](const ProbeContext&, FactSink&) -> halo::rules::ProbeStatus { throw std::runtime_error("boom"); });
    CHECK(status_of(threw, "throws").reason == "internal error: boom");
    CHECK(threw.unknown_reason("test.y"));
}

TEST_CASE("durations read the way people say them", "[probes][isolation]")
{
    CHECK(describe_duration(5000ms) == "5 s");
    CHECK(describe_duration(1500ms) == "1.5 s");
    CHECK(describe_duration(250ms) == "250 ms");
}
