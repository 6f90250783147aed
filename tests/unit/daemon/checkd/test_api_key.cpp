#include "daemon/checkd/api_key.hpp"

#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

using namespace halo;
using namespace halo::checkd;

namespace {

// Key files as a map: a path that is not in it cannot be read.
ReadKeyFile files(std::map<std::string, std::string> contents)
{
    return [contents = std::move(contents)](const std::string& path) -> Result<std::string> {
        const auto it = contents.find(path);
        if (it == contents.end()) return Error{"Failed to read API key file '" + path + "': Permission denied", EACCES};
        return it->second;
    };
}

const std::vector<std::string> k_server = {"llama-server", "-m", "/m.gguf", "--port", "8080"};

std::vector<std::string> with(std::vector<std::string> argv, std::initializer_list<std::string> more)
{
    argv.insert(argv.end(), more);
    return argv;
}

} // namespace

TEST_CASE("api keys: the command's --api-key is sent, every one of its keys redacted", "[daemon][api_key]")
{
    ApiKeys k = find_api_keys(with(k_server, {"--api-key", "sk-first,sk-second"}), std::nullopt, {}, files({}));
    CHECK(k.send == std::optional<std::string>("sk-first"));
    CHECK(k.source == "--api-key in [engine] command");
    CHECK(k.secrets == std::vector<std::string>{"sk-second", "sk-first"});
    CHECK(k.problems.empty());

    k = find_api_keys(with(k_server, {"--api-key=sk-inline"}), std::nullopt, {}, files({}));
    CHECK(k.send == std::optional<std::string>("sk-inline"));
}

TEST_CASE("api keys: --api-key-file is read as llama-server reads it", "[daemon][api_key]")
{
    const auto read = files({{"/run/keys", "# the engine's keys\n\nsk-from-file\nsk-other\n"}});
    ApiKeys k = find_api_keys(with(k_server, {"--api-key-file", "/run/keys"}), std::nullopt, {}, read);
    CHECK(k.send == std::optional<std::string>("sk-from-file"));
    CHECK(k.source == "--api-key-file in [engine] command");
    CHECK(k.secrets == std::vector<std::string>{"sk-from-file", "sk-other"});

    CHECK(keys_in_file("a\n#b\n\nc") == std::vector<std::string>{"a", "c"});
    CHECK(keys_in_file("key-with-cr\r\n") == std::vector<std::string>{"key-with-cr\r"});
    CHECK(keys_in_file("").empty());
    CHECK(keys_in_file("\n\n# only comments\n").empty());
}

TEST_CASE("api keys: [engine] api_key_file wins for the smoke test, all keys are secrets", "[daemon][api_key]")
{
    const auto read = files({{"/etc/halo/key", "sk-daemon \r\n"}});
    ApiKeys k = find_api_keys(with(k_server, {"--api-key", "sk-cmd"}), std::string("/etc/halo/key"), {}, read);
    // The blanks an HTTP header cannot carry are not sent; the line as written is redacted too.
    CHECK(k.send == std::optional<std::string>("sk-daemon"));
    CHECK(k.source == "[engine] api_key_file");
    CHECK(k.secrets == std::vector<std::string>{"sk-daemon \r", "sk-daemon", "sk-cmd"});
}

TEST_CASE("api keys: the engine's environment, as llama-server reads it", "[daemon][api_key]")
{
    const std::vector<std::string> env = {"PATH=/usr/bin", "LLAMA_API_KEY=sk-env-1,sk-env-2", "HOME=/home/u"};
    ApiKeys k = find_api_keys(k_server, std::nullopt, env, files({}));
    CHECK(k.send == std::optional<std::string>("sk-env-1"));
    CHECK(k.source == "LLAMA_API_KEY in the engine's environment");
    CHECK(k.secrets.size() == 2);
    // The command's flag comes first, as in llama-server.
    k = find_api_keys(with(k_server, {"--api-key", "sk-flag"}), std::nullopt, env, files({}));
    CHECK(k.send == std::optional<std::string>("sk-flag"));
    CHECK(k.secrets.size() == 3); // still none of them may leak

    k = find_api_keys(k_server, std::nullopt, {"LLAMA_ARG_API_KEY_FILE=/k"}, files({{"/k", "sk-envfile\n"}}));
    CHECK(k.send == std::optional<std::string>("sk-envfile"));
    CHECK(k.source == "LLAMA_ARG_API_KEY_FILE in the engine's environment");
    // A prefix of the name is another variable.
    k = find_api_keys(k_server, std::nullopt, {"LLAMA_API_KEYS=x", "LLAMA_API_KEY"}, files({}));
    CHECK_FALSE(k.send);
    CHECK(k.secrets.empty());
}

TEST_CASE("api keys: none anywhere sends none", "[daemon][api_key]")
{
    const ApiKeys k = find_api_keys(k_server, std::nullopt, {"PATH=/usr/bin"}, files({}));
    CHECK_FALSE(k.send);
    CHECK(k.source.empty());
    CHECK(k.secrets.empty());
    CHECK(k.problems.empty());
    // A command the parser refuses is no key (the engine's own exit reports the command).
    CHECK_FALSE(find_api_keys({"llama-server", "--port", "x"}, std::nullopt, {}, files({})).send);
}

TEST_CASE("api keys: an unreadable or empty key file is a problem that says what follows", "[daemon][api_key]")
{
    ApiKeys k = find_api_keys(k_server, std::string("/etc/halo/key"), {}, files({}));
    CHECK_FALSE(k.send);
    REQUIRE(k.problems.size() == 1);
    CHECK(k.problems[0] == "Failed to read API key file '/etc/halo/key': Permission denied ([engine] api_key_file); "
                           "the smoke test goes without it; make the file readable by halo-checkd's user and put the "
                           "key on its first line");

    k = find_api_keys(with(k_server, {"--api-key-file", "/in/container"}), std::nullopt, {}, files({}));
    REQUIRE(k.problems.size() == 1);
    CHECK_THAT(k.problems[0], Catch::StartsWith("Failed to read API key file '/in/container': Permission denied "
                                                "(--api-key-file in [engine] command); the smoke test cannot send "
                                                "that key; set [engine] api_key_file"));

    k = find_api_keys(k_server, std::string("/empty"), {}, files({{"/empty", "# nothing yet\n"}}));
    REQUIRE(k.problems.size() == 1);
    CHECK_THAT(k.problems[0], Catch::StartsWith("API key file '/empty' ([engine] api_key_file) holds no key;"));
    for (const std::string& p : k.problems) CHECK(p.find("nothing yet") == std::string::npos);
}

TEST_CASE("api keys: redaction replaces each key wherever it stands", "[daemon][api_key]")
{
    const std::vector<std::string> secrets = {"sk-secret-long", "sk-secret"};
    CHECK(redact("main: --api-key sk-secret-long --port 8080", secrets) == "main: --api-key [redacted] --port 8080");
    CHECK(redact("sk-secretsk-secret", secrets) == "[redacted][redacted]");
    CHECK(redact("a sk-secret b sk-secret-long c", secrets) == "a [redacted] b [redacted] c");
    CHECK(redact("no key here", secrets) == "no key here");
    CHECK(redact("", secrets).empty());
    CHECK(redact("sk-secret", {}) == "sk-secret");
    // llama-server -v prints its own mask, the last four characters: they go too.
    CHECK(redact("0.00.004.886 I srv  init_listene: api_keys: ****long", secrets) ==
          "0.00.004.886 I srv  init_listene: api_keys: ****");
    CHECK(redact("****cret, ****long", secrets) == "****, ****");
    CHECK(redact("**** is not a mask of these", secrets) == "**** is not a mask of these");
    // A one-letter key does not eat the marker it leaves.
    CHECK(redact("a cat", std::vector<std::string>{"a"}) == "[redacted] c[redacted]t");
}

TEST_CASE("api keys: a key file read from disk", "[daemon][api_key]")
{
    test::TempDir dir;
    const std::string path = (dir.path() / "key").string();
    test::write_text(path, "sk-on-disk\n");
    auto text = read_key_file(path);
    REQUIRE(text.ok());
    CHECK(*text == "sk-on-disk\n");

    auto missing = read_key_file(path + ".missing");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "Failed to read API key file '" + path + ".missing': No such file or directory");

    test::write_text(path, std::string(70 * 1024, 'k'));
    auto big = read_key_file(path);
    REQUIRE_FALSE(big.ok());
    CHECK_THAT(big.error().message, Catch::Contains("more than the 65536 this file may hold"));

    // Read at every launch, on the event loop: a FIFO would hang a blocking open.
    const std::string fifo = path + ".fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto from_fifo = read_key_file(fifo);
    REQUIRE_FALSE(from_fifo.ok());
    CHECK_THAT(from_fifo.error().message,
               Catch::StartsWith("Failed to read API key file '" + fifo + "': not a regular file"));
}
