#include "daemon/checkd/probe_child.hpp"

#include "common/write_all.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "probes/isolation.hpp"
#include "probes/registry.hpp"
#include "probes/runner.hpp"
#include "rules/facts_io.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>
#include <utility>

namespace halo::checkd {

namespace {

constexpr std::chrono::milliseconds k_kill_grace{1000};

// The child's whole life. Never returns.
[[noreturn]] void run_child(const probes::ProbeContext& context, int write_fd, pid_t parent) noexcept
{
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(5); // the daemon died before the line above
    // The daemon blocks its signals for sd-event; the probes' own children expect defaults.
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) std::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::close(null);
    }
    int code = 0;
    try {
        const rules::Facts facts = probes::run_probes(context);
        if (!write_all(write_fd, rules::serialize_facts(facts, rules::FactsFormat::json))) code = 3;
    } catch (...) {
        code = 4; // out of memory, most likely: the parent reports the exit status
    }
    ::_exit(code);
}

std::string signal_name(int sig)
{
    if (const char* abbrev = ::sigabbrev_np(sig)) return fmt::format("SIG{}", abbrev);
    return fmt::format("signal {}", sig);
}

} // namespace

rules::Facts probe_run_failed(const std::string& reason)
{
    rules::Facts facts;
    for (const probes::ProbeInfo& probe : probes::registry()) {
        probes::mark_provides_unknown(probe, facts, "failed: " + reason);
        facts.set_probe_status(std::string(probe.id), probes::status_failed(reason));
    }
    return facts;
}

rules::Facts probe_child_facts(const ProbeChildOutcome& out, std::chrono::milliseconds deadline)
{
    if (out.timed_out) {
        std::string reason =
            fmt::format("the probe child gave no answer in {} and was killed", probes::describe_duration(deadline));
        if (out.did_not_die) reason += "; it did not die when killed (stuck in the kernel)";
        return probe_run_failed(reason);
    }
    if (out.too_large) {
        return probe_run_failed(
            fmt::format("the probe child's answer was larger than {} bytes; ignoring it", k_probe_answer_cap));
    }
    if (!out.exited) return probe_run_failed(fmt::format("the probe child was killed by {}", signal_name(out.signal)));
    if (out.exit_status != 0)
        return probe_run_failed(fmt::format("the probe child exited with status {} before answering", out.exit_status));
    if (out.answer.empty()) return probe_run_failed("the probe child exited without an answer");
    auto facts = rules::parse_facts_json(out.answer, "the probe child's answer");
    if (!facts) return probe_run_failed("garbage answer: " + facts.error().message);
    return std::move(*facts);
}

Result<std::unique_ptr<ProbeRun>> ProbeRun::start(sd_event* event, const probes::ProbeContext& context,
                                                  std::chrono::milliseconds deadline, Done done)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return Error{fmt::format("Failed to create a pipe for the probe child: {}", std::strerror(errno))};
    Fd read_end(fds[0]);
    Fd write_end(fds[1]);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Error{fmt::format("Failed to fork the probe child: {}", std::strerror(errno))};
    if (pid == 0) {
        read_end.reset();
        run_child(context, write_end.get(), parent);
    }
    // Also from this side, so a kill of the group cannot race the child's own setpgid.
    ::setpgid(pid, pid);
    write_end.reset();
    ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);
    std::unique_ptr<ProbeRun> run(new ProbeRun(event, pid, std::move(read_end), deadline, std::move(done)));
    if (auto ok = run->attach(); !ok) return ok.error(); // the destructor kills the child
    return run;
}

ProbeRun::ProbeRun(sd_event* event, pid_t pid, Fd read_end, std::chrono::milliseconds deadline, Done done)
    : m_event(event), m_pid(pid), m_read(std::move(read_end)), m_deadline(deadline), m_done(std::move(done))
{}

Result<void> ProbeRun::attach()
{
    sd_event_source* s = nullptr;
    int r = sd_event_add_child(m_event, &s, m_pid, WEXITED, &ProbeRun::on_exit, this);
    if (r < 0) return Error{fmt::format("Failed to watch the probe child: {}", std::strerror(-r))};
    m_child.reset(s);
    r = sd_event_add_io(m_event, &s, m_read.get(), EPOLLIN, &ProbeRun::on_output, this);
    if (r < 0) return Error{fmt::format("Failed to watch the probe child's answer: {}", std::strerror(-r))};
    m_output.reset(s);
    uint64_t now = 0;
    sd_event_now(m_event, CLOCK_MONOTONIC, &now);
    const auto usec = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(m_deadline).count());
    r = sd_event_add_time(m_event, &s, CLOCK_MONOTONIC, now + usec, 10'000, &ProbeRun::on_deadline, this);
    if (r < 0) return Error{fmt::format("Failed to time the probe child: {}", std::strerror(-r))};
    m_timer.reset(s);
    return {};
}

ProbeRun::~ProbeRun()
{
    if (m_reaped) return;
    kill_group();
    detach_child();
}

void ProbeRun::kill_group() noexcept
{
    // Grandchildren (an isolated GPU probe's child) die with the group.
    ::kill(-m_pid, SIGKILL);
    ::kill(m_pid, SIGKILL);
}

void ProbeRun::detach_child() noexcept
{
    if (!m_child) return;
    (void)sd_event_source_set_userdata(m_child.get(), nullptr);
    if (sd_event_source_set_floating(m_child.get(), 1) >= 0) {
        sd_event_source_unref(m_child.release());
    } else {
        m_child.reset(); // then the zombie stays until the daemon exits
    }
}

bool ProbeRun::drain()
{
    char buffer[65536];
    while (true) {
        const ssize_t n = ::read(m_read.get(), buffer, sizeof buffer);
        if (n < 0) return errno == EINTR ? drain() : true; // EAGAIN: all there is for now
        if (n == 0) {
            m_output.reset(); // EOF
            return true;
        }
        if (m_outcome.answer.size() + static_cast<std::size_t>(n) > k_probe_answer_cap) {
            m_outcome.too_large = true;
            m_outcome.answer.clear();
            m_output.reset();
            return false;
        }
        m_outcome.answer.append(buffer, static_cast<std::size_t>(n));
    }
}

int ProbeRun::on_output(sd_event_source*, int, uint32_t, void* userdata) noexcept
{
    auto* self = static_cast<ProbeRun*>(userdata);
    return guard_callback("probe_run.on_output", 0, [self] {
        if (!self->drain()) self->kill_group(); // over the cap: its exit finishes the run
    });
}

int ProbeRun::on_exit(sd_event_source* source, const siginfo_t* info, void* userdata) noexcept
{
    auto* self = static_cast<ProbeRun*>(userdata);
    if (!self) {
        // Detached: the loop has reaped it; nothing waits for it any more.
        (void)sd_event_source_set_enabled(source, SD_EVENT_OFF);
        return 0;
    }
    return guard_callback("probe_run.on_exit", 0, [self, info] {
        self->m_reaped = true;
        self->m_outcome.exited = info->si_code == CLD_EXITED;
        if (self->m_outcome.exited) self->m_outcome.exit_status = info->si_status;
        else self->m_outcome.signal = info->si_status;
        // Everything the child wrote is in the pipe by now (a grandchild may hold it open, so
        // EOF is not awaited).
        if (self->m_output && !self->drain()) self->kill_group();
        self->finish();
    });
}

int ProbeRun::on_deadline(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<ProbeRun*>(userdata);
    return guard_callback("probe_run.on_deadline", 0, [self] {
        self->m_outcome.timed_out = true;
        self->kill_group();
        uint64_t now = 0;
        sd_event_now(self->m_event, CLOCK_MONOTONIC, &now);
        const auto grace =
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(k_kill_grace).count());
        sd_event_source* s = nullptr;
        if (sd_event_add_time(self->m_event, &s, CLOCK_MONOTONIC, now + grace, 10'000, &ProbeRun::on_grace, self) >=
            0) {
            self->m_timer.reset(s);
        } else {
            on_grace(nullptr, 0, self);
        }
    });
}

int ProbeRun::on_grace(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<ProbeRun*>(userdata);
    return guard_callback("probe_run.on_grace", 0, [self] {
        // SIGKILL did not end it: an uninterruptible driver call. The loop reaps it whenever
        // the kernel lets it go; the daemon does not wait for it.
        self->m_outcome.did_not_die = true;
        self->detach_child();
        self->finish();
    });
}

void ProbeRun::finish()
{
    if (m_finished) return;
    m_finished = true;
    m_output.reset();
    m_timer.reset();
    rules::Facts facts = probe_child_facts(m_outcome, m_deadline);
    Done done = std::move(m_done);
    done(std::move(facts)); // may destroy this run: nothing after it
}

} // namespace halo::checkd
