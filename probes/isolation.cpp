#include "probes/isolation.hpp"

#include "common/fd.hpp"
#include "common/write_all.hpp"

#include "probes/runner.hpp"
#include "rules/facts_io.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <optional>

namespace halo::probes {

namespace {

using Clock = std::chrono::steady_clock;

// The child's whole life. Never returns.
[[noreturn]] void run_child(const ProbeInfo& probe, const ProbeContext& context, int write_fd) noexcept
{
    ::setpgid(0, 0);
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGPIPE, SIGTERM, SIGINT}) std::signal(sig, SIG_DFL);
    if (int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::close(null);
    }
    int code = 0;
    try {
        rules::Facts facts;
        rules::ProbeStatus status = collect_guarded(probe, context, facts);
        facts.set_probe_status(std::string(probe.id), std::move(status));
        if (!write_all(write_fd, rules::serialize_facts(facts, rules::FactsFormat::toml))) code = 3;
    } catch (...) {
        code = 4; // serialising failed (out of memory): the parent reports the exit status
    }
    ::_exit(code);
}

std::string signal_name(int sig)
{
    if (const char* abbrev = ::sigabbrev_np(sig)) return fmt::format("SIG{}", abbrev);
    return fmt::format("signal {}", sig);
}

struct ChildOutcome {
    std::string answer;
    bool timed_out = false;
    bool too_large = false;
    bool reaped = false;
    int wait_status = 0;
};

std::optional<int> try_reap(pid_t pid)
{
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == pid) return status;
    return std::nullopt;
}

// Reads the answer until EOF, the child's exit, the cap or the deadline, then makes sure
// nothing of the child's process group is left running.
ChildOutcome supervise(pid_t pid, int read_fd, Clock::time_point deadline)
{
    ChildOutcome out;
    bool eof = false;
    char buffer[65536];
    while (!eof && !out.reaped) {
        const auto now = Clock::now();
        if (now >= deadline) {
            out.timed_out = true;
            break;
        }
        // Short slices: a grandchild may hold the pipe open after the child has exited, so EOF
        // alone cannot tell that the answer is complete.
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        pollfd pfd{read_fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left + 1, 20)));
        if (ready < 0 && errno != EINTR) break;
        if (ready > 0) {
            const ssize_t n = ::read(read_fd, buffer, sizeof buffer);
            if (n == 0) eof = true;
            else if (n > 0) {
                if (out.answer.size() + static_cast<std::size_t>(n) > k_isolation_answer_cap) {
                    out.too_large = true;
                    break;
                }
                out.answer.append(buffer, static_cast<std::size_t>(n));
            }
        }
        if (!eof) {
            if (auto status = try_reap(pid)) {
                out.reaped = true;
                out.wait_status = *status;
                // Everything the child wrote is in the pipe by now: take it without blocking.
                ::fcntl(read_fd, F_SETFL, ::fcntl(read_fd, F_GETFL) | O_NONBLOCK);
                ssize_t n;
                while ((n = ::read(read_fd, buffer, sizeof buffer)) > 0) {
                    if (out.answer.size() + static_cast<std::size_t>(n) > k_isolation_answer_cap) {
                        out.too_large = true;
                        break;
                    }
                    out.answer.append(buffer, static_cast<std::size_t>(n));
                }
            }
        }
    }
    // After EOF the child is exiting: give it until the deadline.
    while (!out.reaped && !out.timed_out && !out.too_large) {
        if (auto status = try_reap(pid)) {
            out.reaped = true;
            out.wait_status = *status;
            break;
        }
        if (Clock::now() >= deadline) {
            out.timed_out = true;
            break;
        }
        ::usleep(1000);
    }
    // Grandchildren (and a hung child) die with the group, whatever happened.
    ::kill(-pid, SIGKILL);
    if (!out.reaped) {
        ::kill(pid, SIGKILL);
        // A child stuck in an uninterruptible driver call cannot die until the kernel lets it;
        // waiting for it would make our own run unbounded, so give up after a short grace.
        const auto grace = Clock::now() + std::chrono::milliseconds(500);
        while (Clock::now() < grace) {
            if (auto status = try_reap(pid)) {
                out.reaped = true;
                out.wait_status = *status;
                break;
            }
            ::usleep(1000);
        }
    }
    return out;
}

rules::ProbeStatus judge(const ProbeInfo& probe, const ProbeContext& context, const ChildOutcome& out,
                         std::optional<rules::Facts>& child_facts)
{
    if (out.timed_out) {
        std::string reason = fmt::format("no answer in {}", describe_duration(context.budget));
        if (!out.reaped) reason += "; the child did not die when killed (stuck in the kernel driver)";
        return status_failed(std::move(reason));
    }
    if (out.too_large) {
        return status_failed(fmt::format("answer larger than {} bytes from {}; ignoring it", k_isolation_answer_cap,
                                         isolation_culprit(probe.id)));
    }
    if (out.reaped && WIFSIGNALED(out.wait_status)) {
        const int sig = WTERMSIG(out.wait_status);
        return status_failed(fmt::format("crashed with {} in {}", signal_name(sig), isolation_culprit(probe.id)));
    }
    if (out.reaped && WIFEXITED(out.wait_status) && WEXITSTATUS(out.wait_status) != 0) {
        return status_failed(fmt::format("exited with status {} in {} before answering", WEXITSTATUS(out.wait_status),
                                         isolation_culprit(probe.id)));
    }
    if (out.answer.empty()) return status_failed(fmt::format("no answer from {}", isolation_culprit(probe.id)));
    auto parsed = rules::parse_facts_toml(out.answer, fmt::format("{} probe child", probe.id));
    if (!parsed) return status_failed(fmt::format("garbage answer: {}", parsed.error().message));
    const auto& statuses = parsed->probes();
    const auto it = statuses.find(std::string(probe.id));
    if (it == statuses.end()) return status_failed("garbage answer: it holds no status for the probe");
    rules::ProbeStatus status = it->second;
    child_facts = std::move(*parsed);
    return status;
}

} // namespace

std::string isolation_culprit(std::string_view probe_id)
{
    if (probe_id == "vulkan") return "the Vulkan driver";
    if (probe_id == "drm") return "the DRM/amdgpu driver (libdrm)";
    return fmt::format("the {} probe", probe_id);
}

std::string describe_duration(std::chrono::milliseconds duration)
{
    const auto ms = duration.count();
    if (ms < 1000) return fmt::format("{} ms", ms);
    if (ms % 1000 == 0) return fmt::format("{} s", ms / 1000);
    return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
}

void run_probe_isolated(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts)
{
    const auto start = Clock::now();
    const auto deadline = start + context.budget;
    auto finish = [&](rules::ProbeStatus status) {
        status.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (status.state == rules::ProbeState::failed) mark_provides_unknown(probe, facts, "failed: " + status.reason);
        facts.set_probe_status(std::string(probe.id), std::move(status));
    };

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        finish(status_failed(fmt::format("Failed to create a pipe for the isolated child: {}", std::strerror(errno))));
        return;
    }
    Fd read_end(fds[0]);
    Fd write_end(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0) {
        finish(status_failed(fmt::format("Failed to fork the isolated child: {}", std::strerror(errno))));
        return;
    }
    if (pid == 0) {
        read_end.reset();
        run_child(probe, context, write_end.get());
    }
    // Also from this side, so a kill of the group cannot race the child's own setpgid.
    ::setpgid(pid, pid);
    write_end.reset();

    const ChildOutcome outcome = supervise(pid, read_end.get(), deadline);
    std::optional<rules::Facts> child_facts;
    rules::ProbeStatus status = judge(probe, context, outcome, child_facts);
    if (child_facts) {
        child_facts->set_probe_status(std::string(probe.id), status); // replaced below with elapsed_ms
        facts.merge(*child_facts);
    }
    finish(std::move(status));
}

} // namespace halo::probes
