// The knowledge feed's costs (docs/feed.md): minisign signature verification of a 1 MB feed
// (goal: < 50 ms), and loading 2,000 then 20,000 generated rules through load_rules, as a feed
// is loaded: time ratio (goal: <= 11x for 10x the rules) and each size's peak memory, measured
// in a child process of its own so the sizes do not share a high-water mark.
// Usage: bench_feed [RUNS]
#include "feed/minisign.hpp"
#include "rules/rule_loader.hpp"

#include <fmt/core.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

std::string generate(std::size_t count)
{
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
        text +=
            fmt::format("[[rule]]\nid = \"bench.{}\"\nseverity = \"{}\"\ntitle = \"generated {}\"\nfix = \"none\"\n"
                        "links = [\"https://example.org\"]\nsince = 2026-01-01\n"
                        "when = {{ \"kernel.release\" = \">= 6.18.{}, < 6.19\", \"engine.backend\" = \"rocm\" }}\n\n",
                        i, i % 2 ? "warning" : "broken", i, i % 40);
    }
    return text;
}

double cpu_now_ms()
{
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

struct Medians {
    double wall_ms = 0;
    double cpu_ms = 0; // the process's CPU time: on a shared machine, less noisy than the wall clock
};

template <typename F>
Medians medians(int runs, F&& f)
{
    std::vector<double> wall, cpu;
    for (int r = 0; r < runs; ++r) {
        const auto start = std::chrono::steady_clock::now();
        const double cpu_start = cpu_now_ms();
        f();
        cpu.push_back(cpu_now_ms() - cpu_start);
        wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

template <typename F>
double median_ms(int runs, F&& f)
{
    return medians(runs, std::forward<F>(f)).wall_ms;
}

double verify_ms(int runs)
{
    std::string text = "[feed]\nname = \"bench\"\nversion = 1\npublished = 2026-01-01T00:00:00Z\n"
                       "expires = 2099-01-01T00:00:00Z\nmin_halo_check = \"0.1\"\n\n";
    text += generate(4000);
    text.resize(1u << 20, '\n');
    halo::feed::PublicKey key;
    std::vector<unsigned char> secret(crypto_sign_SECRETKEYBYTES);
    crypto_sign_keypair(key.key.data(), secret.data());
    halo::feed::Signature sig;
    sig.prehashed = true;
    std::array<unsigned char, crypto_generichash_BYTES_MAX> hash{};
    crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                       nullptr, 0);
    crypto_sign_detached(sig.signature.data(), nullptr, hash.data(), hash.size(), secret.data());
    sig.trusted_comment = "version=1";
    std::string covered(reinterpret_cast<const char*>(sig.signature.data()), sig.signature.size());
    covered += sig.trusted_comment;
    crypto_sign_detached(sig.global_signature.data(), nullptr, reinterpret_cast<const unsigned char*>(covered.data()),
                         covered.size(), secret.data());
    const std::vector<halo::feed::PublicKey> keys{key};
    if (halo::feed::verify(text, sig, keys).verdict != halo::feed::Verdict::valid) {
        std::fprintf(stderr, "bench_feed: the generated signature does not verify\n");
        std::exit(1);
    }
    return median_ms(runs, [&] { (void)halo::feed::verify(text, sig, keys); });
}

// Loads `count` rules as the feed in a child; prints nothing; returns the child's peak RSS (KiB)
// and fills the median load times.
long load_in_child(std::size_t count, int runs, Medians& ms)
{
    int pipefd[2];
    if (::pipe(pipefd) != 0) std::exit(1);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        halo::rules::RuleSources sources;
        sources.embedded = false;
        sources.feed = halo::rules::FeedSource{generate(count), "feed 1"};
        const Medians t = medians(runs, [&] {
            const halo::rules::LoadedRules loaded = halo::rules::load_rules(sources);
            if (loaded.rules.rules.size() != count) std::_Exit(3);
        });
        (void)!::write(pipefd[1], &t, sizeof t);
        std::_Exit(0);
    }
    ::close(pipefd[1]);
    (void)!::read(pipefd[0], &ms, sizeof ms);
    ::close(pipefd[0]);
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_feed: loading %zu rules failed\n", count);
        std::exit(1);
    }
    return usage.ru_maxrss;
}

} // namespace

int main(int argc, char** argv)
{
    const int runs = argc > 1 ? std::atoi(argv[1]) : 11;
    if (sodium_init() < 0) return 1;
    std::printf("verify 1 MiB feed (prehashed): median %.2f ms over %d runs (goal < 50 ms)\n", verify_ms(runs), runs);
    Medians empty_ms, small_ms, large_ms;
    // The process itself (libraries, the allocator's arenas) before any rule: what the rules add
    // is the peak above it.
    const long empty_kib = load_in_child(0, runs, empty_ms);
    const long small_kib = load_in_child(2000, runs, small_ms);
    const long large_kib = load_in_child(20000, runs, large_ms);
    std::printf("load      0 rules: median %8.1f ms (CPU %8.1f ms), peak RSS %7ld KiB\n", empty_ms.wall_ms,
                empty_ms.cpu_ms, empty_kib);
    std::printf("load  2,000 rules: median %8.1f ms (CPU %8.1f ms), peak RSS %7ld KiB\n", small_ms.wall_ms,
                small_ms.cpu_ms, small_kib);
    std::printf("load 20,000 rules: median %8.1f ms (CPU %8.1f ms), peak RSS %7ld KiB\n", large_ms.wall_ms,
                large_ms.cpu_ms, large_kib);
    std::printf("ratio 20,000 / 2,000: time %.1fx, CPU time %.1fx (goal <= 11x), peak RSS %.1fx, peak RSS above 0 "
                "rules %.1fx (proportional: 10x)\n",
                large_ms.wall_ms / small_ms.wall_ms, large_ms.cpu_ms / small_ms.cpu_ms,
                static_cast<double>(large_kib) / static_cast<double>(small_kib),
                static_cast<double>(large_kib - empty_kib) / static_cast<double>(small_kib - empty_kib));
    return 0;
}
