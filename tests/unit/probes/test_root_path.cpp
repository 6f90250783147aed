// Paths under a root stay under it: the walk (the fallback for kernels without openat2) and both
// ways of opening, against a real tree with links that point out of it, into it, up, and round.
#include "probes/root_path.hpp"

#include "probes/host.hpp"

#include "host_probe_support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>

using namespace halo;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

std::string read_fd(const Fd& fd)
{
    std::string out(4096, '\0');
    const ssize_t n = ::read(fd.get(), out.data(), out.size());
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

// outside/secret, and root/ holding links to it every way a copied tree could.
struct Tree {
    test::ScratchDir dir;
    fs::path root = dir.path() / "root";
    fs::path secret = dir.path() / "outside" / "secret";
    Tree()
    {
        write(secret, "SECRET-MARKER");
        write(root / "usr/lib/os-release", "NAME=Fixture");
        write(root / "sys/card/real", "42");
        fs::create_symlink("/usr/lib/os-release", root / "usr/lib/absolute-inside");
        fs::create_directories(root / "etc");
        fs::create_symlink("../usr/lib/os-release", root / "etc/os-release");
        fs::create_symlink(secret, root / "sys/card/absolute-out");
        fs::create_symlink("../../../outside/secret", root / "sys/card/relative-out");
        fs::create_symlink(dir.path() / "outside", root / "sys/card/dir-out");
        fs::create_symlink("/sys/card/loop-b", root / "sys/card/loop-a");
        fs::create_symlink("loop-a", root / "sys/card/loop-b");
        fs::create_symlink("/sys", root / "sys/card/up");
    }
};

} // namespace

TEST_CASE("root path: the walk resolves every link inside the root", "[probes][root_path]")
{
    const Tree t;
    auto at = [&](std::string_view p, bool follow = true) {
        auto r = probes::resolve_in_root(t.root, p, follow);
        REQUIRE(r);
        return *r;
    };
    CHECK(at("/etc/os-release") == t.root / "usr/lib/os-release");
    CHECK(at("/usr/lib/absolute-inside") == t.root / "usr/lib/os-release");
    // Out of the root, absolutely or by "..": the root's own path of that name, which is absent.
    CHECK(at("/sys/card/absolute-out") == t.root / t.secret.relative_path());
    CHECK(at("/sys/card/relative-out") == t.root / "outside/secret");
    CHECK(at("/sys/card/dir-out/secret") == t.root / (t.dir.path() / "outside/secret").relative_path());
    CHECK(at("/../../..") == t.root);
    CHECK(at("/sys/card/up/card/real") == t.root / "sys/card/real");
    CHECK(at("sys//card/./real") == t.root / "sys/card/real");
    // The last component kept as it is, for lstat and readlink.
    CHECK(at("/etc/os-release", false) == t.root / "etc/os-release");
    CHECK(at("/missing/x/../y") == t.root / "missing/y");
    auto loop = probes::resolve_in_root(t.root, "/sys/card/loop-a");
    REQUIRE_FALSE(loop);
    CHECK(loop.error().errno_value == ELOOP);
    CHECK(loop.error().message.find("too many symbolic links") != std::string::npos);
}

TEST_CASE("root path: openat2 and the walk open the same files and never the secret", "[probes][root_path]")
{
    const Tree t;
    using Open = std::function<Result<Fd>(const fs::path&, std::string_view, int)>;
    for (const Open& open : {Open(probes::open_in_root), Open(probes::open_in_root_walked)}) {
        auto os = open(t.root, "/etc/os-release", O_RDONLY);
        REQUIRE(os);
        CHECK(read_fd(*os) == "NAME=Fixture");
        auto inside = open(t.root, "/usr/lib/absolute-inside", O_RDONLY);
        REQUIRE(inside);
        CHECK(read_fd(*inside) == "NAME=Fixture");
        for (const char* escape : {"/sys/card/absolute-out", "/sys/card/relative-out", "/sys/card/dir-out/secret"}) {
            INFO(escape);
            auto out = open(t.root, escape, O_RDONLY);
            REQUIRE_FALSE(out);
            CHECK(out.error().errno_value == ENOENT);
        }
        auto loop = open(t.root, "/sys/card/loop-a", O_RDONLY);
        REQUIRE_FALSE(loop);
        CHECK(loop.error().errno_value == ELOOP);
    }
}

TEST_CASE("root path: a Host under a root reads, stats and lists only inside it", "[probes][root_path]")
{
    const Tree t;
    const probes::Host host(t.root);
    CHECK(*host.read_file("/etc/os-release") == "NAME=Fixture");
    auto secret = host.read_file("/sys/card/absolute-out");
    REQUIRE_FALSE(secret);
    CHECK(secret.error().message ==
          "Failed to read '" + (t.root / "sys/card/absolute-out").string() + "': No such file or directory");
    CHECK_FALSE(host.stat("/sys/card/absolute-out"));
    CHECK_FALSE(host.list_dir("/sys/card/dir-out"));
    CHECK_FALSE(host.executable("/sys/card/absolute-out"));
    CHECK(host.exists("/sys/card/absolute-out")); // the link itself is there
    CHECK(*host.read_link("/sys/card/absolute-out") == t.secret.string());
    CHECK(host.path("/etc/os-release") == t.root / "usr/lib/os-release");
    // A value larger than a sysfs attribute can be is refused, not read.
    write(t.root / "sys/card/huge", std::string(probes::Host::k_max_value_bytes + 1, 'x'));
    auto huge = host.read_value("/sys/card/huge");
    REQUIRE_FALSE(huge);
    CHECK(huge.error().errno_value == EFBIG);
    CHECK(host.read_value("/sys/card/real"));
    // Nor is a FIFO or a device one: refused, not read to the cap.
    REQUIRE(::mkfifo((t.root / "sys/card/fifo").c_str(), 0600) == 0);
    auto fifo = host.read_file("/sys/card/fifo");
    REQUIRE_FALSE(fifo);
    CHECK(fifo.error().message == "Failed to read '" + (t.root / "sys/card/fifo").string() + "': not a regular file");
    auto zero = probes::Host("/").read_file("/dev/zero", 1U << 20);
    REQUIRE_FALSE(zero);
    CHECK(zero.error().errno_value == EINVAL);
}
