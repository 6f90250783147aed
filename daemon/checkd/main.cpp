// halo-checkd: checks the machine, launches the inference engine only when the verdict allows,
// keeps it healthy, and tells systemd the truth about itself (docs/daemon.md).

#include "common/fatal.hpp"
#include "daemon/checkd/leftover_stop.hpp"
#include "daemon/checkd/manager.hpp"
#include "daemon/config.hpp"
#include "daemon/version_info.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

int run(int argc, char** argv)
{
    using namespace halo::checkd;
    // Blocked before anything else exists, so no thread and no child sees the default action:
    // sd-event receives them through signalfd, and SIGCHLD is what sd_event_add_child needs.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD}) sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);

    ManagerOptions options;
    CLI::App app{"halo-checkd: launch the inference engine only on a safe configuration, and supervise it"};
    app.add_option("--config", options.config_path,
                   "Configuration file (default: $XDG_CONFIG_HOME/halo-check/config.toml, "
                   "then /etc/halo-check/config.toml)")
        ->type_name("FILE");
    app.add_option("--root", options.root, "Read the machine under DIR instead of / (fixture trees)")->type_name("DIR");
    app.add_option("--facts", options.facts_path, "Judge this facts file instead of probing (tests)")
        ->type_name("FILE");
    app.add_option("--state-dir", options.state_dir, "Where state.json and control requests live")->type_name("DIR");
    app.add_option("--rules", options.rules, "Rules file or directory, after the defaults (repeatable)")
        ->type_name("PATH");
    app.add_flag("--no-dropins", options.no_dropins, "Ignore the rules drop-in directories");
    app.add_option("--journal-export", options.journal_export,
                   "Also write every log entry to FILE in the Journal Export Format")
        ->type_name("FILE");
    std::vector<std::string> journal_files;
    std::string journal_dir;
    bool no_journal = false;
    app.add_option("--journal-file", journal_files,
                   "Follow the kernel messages in this journal file instead of the local journal (repeatable)")
        ->type_name("FILE");
    app.add_option("--journal-dir", journal_dir, "Follow the kernel messages of the journal files in DIR")
        ->type_name("DIR");
    app.add_flag("--no-journal", no_journal, "Do not follow the kernel log (the engine's output is still matched)");
    app.add_flag("--no-watch", options.no_watch, "Do not watch the machine for changes (re-check on SIGHUP only)");
    bool stop_leftover = false;
    app.add_flag("--stop-leftover", stop_leftover,
                 "Stop an engine an earlier daemon left running on the engine's port, then exit (ExecStopPost)");
    app.set_version_flag("--version", [] { return halo::app::program_version_text("halo-checkd"); });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (options.config_path.empty()) options.config_path = halo::app::default_config_path();
    if (static_cast<int>(!journal_files.empty()) + static_cast<int>(!journal_dir.empty()) +
            static_cast<int>(no_journal) >
        1) {
        std::fprintf(stderr,
                     "<3>halo-checkd: error: --journal-file, --journal-dir and --no-journal exclude each other\n");
        return 2;
    }
    if (!journal_files.empty()) {
        options.journal = LogMonitorOptions::Journal::files;
        options.journal_paths = journal_files;
    } else if (!journal_dir.empty()) {
        options.journal = LogMonitorOptions::Journal::directory;
        options.journal_paths = {journal_dir};
    } else if (no_journal) {
        options.journal = LogMonitorOptions::Journal::none;
    }

    try {
        auto config = halo::app::load_config(options.config_path);
        // EX_CONFIG (78): the unit's RestartPreventExitStatus keeps systemd from looping on it.
        if (!config) {
            std::fprintf(stderr, "<3>halo-checkd: error: %s\n", config.error().message.c_str());
            return stop_leftover ? 1 : 78;
        }
        if (stop_leftover) {
            auto stopped = stop_leftover_engines(config->engine);
            if (!stopped) {
                std::fprintf(stderr, "<3>halo-checkd: error: %s\n", stopped.error().message.c_str());
                return 1;
            }
            for (const StoppedLeftover& s : *stopped) {
                std::fprintf(stderr, "<5>halo-checkd: stopped a leftover engine, pid %d%s\n", static_cast<int>(s.pid),
                             s.killed ? " (SIGKILL: it outlived stop_timeout)" : "");
            }
            return 0;
        }
        Manager manager(std::move(options), std::move(*config));
        return manager.run();
    } catch (const halo::Fatal& e) {
        std::fprintf(stderr, "<3>halo-checkd: error: %s\n", e.what());
        return 78;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "<3>halo-checkd: error: %s\n", e.what());
        return 1;
    }
}

} // namespace

int main(int argc, char** argv)
{
    // The option table itself allocates: even that failure is a message, not std::terminate.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "<3>halo-checkd: error: %s\n", e.what());
        return 1;
    }
}
