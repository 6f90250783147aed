#pragma once
// The daemon's re-probes, off the event loop: every probe runs in a forked child, which writes
// its facts file to a pipe and exits. The loop reads the pipe through an sd-event io source and
// learns of the exit through a child source, so watchdog pings, signals and control requests go
// on while the machine is read (a 60 MiB podman file, a slow rpmdb, a hung driver). A child that
// outlives its deadline is killed with its process group; a crash, a kill, an answer over the cap
// or garbage becomes facts whose every probe failed with that reason, so the verdict rests on
// unknowns rather than on a guess (probe_child_facts, a pure function of the outcome).
//
// The child is a fork without exec, as the GPU probes' isolation (probes/isolation.hpp) is: it
// runs only the probes, with signals unblocked, stdout on /dev/null and PR_SET_PDEATHSIG, and
// then `_exit`s without touching the loop it inherited.

#include "daemon/checkd/sd_handles.hpp"
#include "probes/probe.hpp"
#include "rules/facts.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace halo::checkd {

// The most the daemon reads of a child's facts: thousands of containers and images fit.
inline constexpr std::size_t k_probe_answer_cap = 8u << 20;
// The whole probe run: the in-process probes take well under a second; the isolated GPU probes
// have ProbeContext::budget (5 s) each.
inline constexpr std::chrono::milliseconds k_probe_run_deadline{30'000};

// What became of one child, as plain values.
struct ProbeChildOutcome {
    std::string answer; // its facts file (JSON: a value that is not UTF-8 is replaced, never refused)
    bool timed_out = false;
    bool too_large = false;
    bool exited = false; // exited on its own (else killed by `signal`)
    int exit_status = 0;
    int signal = 0;
    bool did_not_die = false; // still alive after SIGKILL (stuck in the kernel)
};

// The facts of a probe run: the child's, or, when it failed, every probe failed and its keys
// unknown with the reason ("probe child crashed with SIGSEGV", "no answer in 30 s").
rules::Facts probe_child_facts(const ProbeChildOutcome& outcome, std::chrono::milliseconds deadline);
// Every probe failed with `reason`, its keys unknown: a run that could not even start.
rules::Facts probe_run_failed(const std::string& reason);

class ProbeRun {
public:
    using Done = std::function<void(rules::Facts)>;

    // Forks the child; `done` is called once, on the loop, with the facts (never when the run is
    // destroyed first: the child is then killed). An error when no child could be started.
    static Result<std::unique_ptr<ProbeRun>> start(sd_event* event, const probes::ProbeContext& context,
                                                   std::chrono::milliseconds deadline, Done done);
    ~ProbeRun();
    ProbeRun(const ProbeRun&) = delete;
    ProbeRun& operator=(const ProbeRun&) = delete;

    pid_t pid() const noexcept { return m_pid; }

private:
    ProbeRun(sd_event* event, pid_t pid, Fd read_end, std::chrono::milliseconds deadline, Done done);
    Result<void> attach();
    static int on_output(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    static int on_exit(sd_event_source* s, const siginfo_t* info, void* userdata) noexcept;
    static int on_deadline(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    static int on_grace(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    // Reads what the pipe holds now; false when the answer went over the cap.
    bool drain();
    void kill_group() noexcept;
    void finish();
    // Leaves the child to the loop, which reaps it whenever it dies.
    void detach_child() noexcept;

    sd_event* m_event;
    pid_t m_pid;
    Fd m_read;
    std::chrono::milliseconds m_deadline;
    Done m_done;
    SdEventSource m_output;
    SdEventSource m_child;
    SdEventSource m_timer;
    ProbeChildOutcome m_outcome;
    bool m_reaped = false;
    bool m_finished = false;
};

} // namespace halo::checkd
