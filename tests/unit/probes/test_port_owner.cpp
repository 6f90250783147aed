#include "probes/port_owner.hpp"

#include "host_probe_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace halo;
using namespace halo::probes;
namespace fs = std::filesystem;

namespace {

std::string data(const std::string& name)
{
    std::ifstream in(fs::path(HALO_TEST_DATA) / "proc-net" / name, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool little_endian()
{
    const std::uint16_t one = 1;
    return *reinterpret_cast<const unsigned char*>(&one) == 1;
}

void write(const fs::path& p, const std::string& text)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// A /proc with the captured tcp files and the two listeners' processes around them.
void fake_proc(const fs::path& root)
{
    write(root / "proc/net/tcp", data("tcp"));
    write(root / "proc/net/tcp6", data("tcp6"));
    const std::string llama = "/opt/llama/llama-server";
    write(root / "proc/13882/cmdline",
          llama + '\0' + "--host" + '\0' + "127.0.0.1" + '\0' + "--port" + '\0' + "18601" + '\0');
    write(root / "proc/13882/stat", "13882 (llama-server) S 13880 13880 690 0 -1 4194304 1511 0 1 0 4 0\n");
    fs::create_directories(root / "proc/13882/fd");
    fs::create_symlink("/dev/null", root / "proc/13882/fd/0");
    fs::create_symlink("socket:[1458179]", root / "proc/13882/fd/3");
    fs::create_symlink("socket:[1458181]", root / "proc/13882/fd/4"); // the accepted connection
    write(root / "proc/13883/cmdline", std::string("python3") + '\0' + "-m" + '\0' + "http.server" + '\0');
    write(root / "proc/13883/stat", "13883 (python3) S 13880 13880 690 0 -1\n");
    fs::create_directories(root / "proc/13883/fd");
    fs::create_symlink("socket:[1458195]", root / "proc/13883/fd/3");
    write(root / "proc/13880/comm", "bash\n");
    // A process whose fds cannot be listed, and entries that are no process.
    fs::create_directories(root / "proc/999");
    fs::create_directories(root / "proc/self");
    write(root / "proc/uptime", "1.0 1.0\n");
}

} // namespace

TEST_CASE("port owner: /proc/net/tcp entries with address, port, state and inode", "[probes][port_owner]")
{
    if (!little_endian()) return; // the fixture's words are little-endian
    const auto sockets = parse_proc_net_tcp(data("tcp"), false);
    REQUIRE(sockets.size() == 9); // the header is no entry
    CHECK(sockets[0].address == "0.0.0.0");
    CHECK(sockets[0].port == 2024);
    CHECK(sockets[0].listening);
    CHECK(sockets[1].address == "127.0.0.1");
    CHECK(sockets[1].port == 18601);
    CHECK(sockets[1].listening);
    CHECK(sockets[1].inode == 1458179);
    CHECK(sockets[1].uid == 0);
    // The accepted connection has the same local port but is no listener.
    CHECK(sockets[4].port == 18601);
    CHECK_FALSE(sockets[4].listening);
    CHECK(sockets[4].inode == 1458181);
    CHECK_FALSE(sockets[3].listening); // TIME_WAIT
    CHECK(sockets[3].inode == 0);

    const auto six = parse_proc_net_tcp(data("tcp6"), true);
    REQUIRE(six.size() == 1);
    CHECK(six[0].address == "::");
    CHECK(six[0].port == 18602);
    CHECK(six[0].listening);
    CHECK(six[0].inode == 1458195);
}

TEST_CASE("port owner: bad /proc/net/tcp text is skipped line by line", "[probes][port_owner]")
{
    CHECK(parse_proc_net_tcp("", false).empty());
    CHECK(parse_proc_net_tcp("garbage\n\n\0\xff", false).empty());
    const std::string good =
        "   1: 0100007F:48A9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1458179 1 x";
    const std::string text = "  sl  local_address\n"
                             "   0: 0100007F 00000000:0000 0A 0 0 0 0 0 1\n"                  // no port
                             "   0: 0100007G:48A9 00000000:0000 0A 0 0 0 0 0 1\n"             // not hex
                             "   0: 0100007F:48A9 00000000:0000 0A 0 0 0\n"                   // too short
                             "   0: 0100007F:48A9 00000000:0000 0A 0 0 0 x 0 1\n"             // uid not a number
                             "   0: 0100007F:48A9 00000000:0000 0A 0 0 0 0 0 -1\n"            // inode negative
                             "   0: 00000000000000000000000000000000:48A9 0 0A 0 0 0 0 0 1\n" // v6 in tcp
                             + good + "\n" + good;                                            // and no final newline
    const auto sockets = parse_proc_net_tcp(text, false);
    CHECK(sockets.size() == 2);
    CHECK(parse_proc_net_tcp(good, true).empty()); // a v4 address in tcp6
}

TEST_CASE("port owner: socket links, cmdlines and stat lines", "[probes][port_owner]")
{
    CHECK(socket_inode("socket:[1458179]") == 1458179u);
    CHECK_FALSE(socket_inode("socket:[]"));
    CHECK_FALSE(socket_inode("socket:[12x]"));
    CHECK_FALSE(socket_inode("pipe:[1458179]"));
    CHECK_FALSE(socket_inode("/dev/null"));
    CHECK_FALSE(socket_inode("socket:[1458179"));

    CHECK(parse_cmdline(std::string("a") + '\0' + "b c" + '\0') == std::vector<std::string>{"a", "b c"});
    CHECK(parse_cmdline(std::string("a") + '\0' + '\0' + "b") == std::vector<std::string>{"a", "", "b"});
    CHECK(parse_cmdline("").empty()); // a kernel thread
    CHECK(parse_cmdline("only") == std::vector<std::string>{"only"});

    CHECK(parent_pid_from_stat("13882 (llama-server) S 13880 13880 690") == 13880);
    CHECK(parent_pid_from_stat("77 (a) b) (c) R 1 77") == 1); // a name with spaces and parentheses
    CHECK_FALSE(parent_pid_from_stat("13882 llama-server S 13880"));
    CHECK_FALSE(parent_pid_from_stat("13882 (x) S"));
    CHECK_FALSE(parent_pid_from_stat("13882 (x) S abc"));
    CHECK_FALSE(parent_pid_from_stat(""));
}

TEST_CASE("port owner: the reader finds the process holding a listening socket", "[probes][port_owner]")
{
    if (!little_endian()) return;
    test::ScratchDir dir;
    fake_proc(dir.path());
    const Host host(dir.path());

    auto llama = port_listeners(host, 18601);
    REQUIRE(llama);
    REQUIRE(llama->size() == 1); // the listener, not the accepted connection
    const PortListener& l = llama->front();
    CHECK(l.pid == 13882);
    CHECK(l.argv == std::vector<std::string>{"/opt/llama/llama-server", "--host", "127.0.0.1", "--port", "18601"});
    CHECK(l.name == "llama-server");
    CHECK(l.parent == 13880);
    CHECK(l.parent_name == "bash");
    CHECK(l.socket.address == "127.0.0.1");
    CHECK(describe_listener(l) == "pid 13882 (llama-server)");

    auto python = port_listeners(host, 18602); // tcp6, any address
    REQUIRE(python);
    REQUIRE(python->size() == 1);
    CHECK(python->front().pid == 13883);
    CHECK(python->front().socket.address == "::");
    CHECK(describe_listener(python->front()) == "pid 13883 (python3)");

    // A listener no readable fd holds: the socket without a process.
    auto hidden = port_listeners(host, 18432);
    REQUIRE(hidden);
    REQUIRE(hidden->size() == 1);
    CHECK(hidden->front().pid == 0);
    CHECK(describe_listener(hidden->front()) == "a process not visible here (socket inode 1418742)");

    auto none = port_listeners(host, 9);
    REQUIRE(none);
    CHECK(none->empty());
}

TEST_CASE("port owner: one of the two tcp files is enough, neither is an error", "[probes][port_owner]")
{
    if (!little_endian()) return;
    test::ScratchDir dir;
    fake_proc(dir.path());
    fs::remove(dir.path() / "proc/net/tcp6");
    auto found = port_listeners(Host(dir.path()), 18601);
    REQUIRE(found);
    CHECK(found->size() == 1);
    fs::remove(dir.path() / "proc/net/tcp");
    auto neither = port_listeners(Host(dir.path()), 18601);
    REQUIRE_FALSE(neither);
    CHECK_THAT(neither.error().message, Catch::Contains("/proc/net/tcp'") && Catch::Contains("/proc/net/tcp6'"));
}

TEST_CASE("port owner: this process's own listening socket on the live machine", "[probes][port_owner]")
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    const int port = ntohs(a.sin_port);

    auto found = port_listeners(Host("/"), port);
    ::close(fd);
    REQUIRE(found);
    REQUIRE(found->size() == 1);
    CHECK(found->front().pid == ::getpid());
    CHECK(found->front().socket.address == "127.0.0.1");
    CHECK(found->front().name == "halo_tests");
}
