#include "daemon/redacted_command.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using halo::app::redacted_command;
using V = std::vector<std::string>;

TEST_CASE("redacted command: secret flags lose their values, the rest stays", "[daemon][redacted_command]")
{
    CHECK(redacted_command(V{"llama-server", "--port", "8080", "-c", "4096"}) ==
          V{"llama-server", "--port", "8080", "-c", "4096"});
    CHECK(redacted_command(V{"llama-server", "--api-key", "sk-secret", "--port", "1"}) ==
          V{"llama-server", "--api-key", "(hidden)", "--port", "1"});
    CHECK(redacted_command(V{"llama-server", "--api-key=sk-secret", "-hft", "hf_x", "--hf-token", "hf_y"}) ==
          V{"llama-server", "--api-key=(hidden)", "-hft", "(hidden)", "--hf-token", "(hidden)"});
    // A key that looks like a flag is still the key; a flag at the end has no value to hide.
    CHECK(redacted_command(V{"s", "--api-key", "--port"}) == V{"s", "--api-key", "(hidden)"});
    CHECK(redacted_command(V{"s", "--api-key"}) == V{"s", "--api-key"});
    // Only the flag itself: a value that merely contains it is not a secret's flag.
    CHECK(redacted_command(V{"s", "-m", "--api-key-notes.gguf"}) == V{"s", "-m", "--api-key-notes.gguf"});
    CHECK(redacted_command(V{}).empty());
}
