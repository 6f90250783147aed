#include "probes/chat_template.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

using halo::probes::chat_template_traits;

namespace {

// The templates tests/helpers/engine/make_gguf.py writes into the models the real llama-server
// serves in the integration tests (tests/integration/client_facts.sh reads the facts from models it
// writes with it).
std::string fixture(const std::string& name)
{
    std::ifstream in(std::string(HALO_TEST_DATA) + "/chat-templates/" + name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("plain ChatML: no thinking, no tools", "[probes][chat_template]")
{
    const auto traits = chat_template_traits(fixture("chatml.jinja"));
    CHECK_FALSE(traits.thinking);
    CHECK_FALSE(traits.tools);
}

TEST_CASE("ChatML with a think section that follows enable_thinking: thinking, no tools", "[probes][chat_template]")
{
    const auto traits = chat_template_traits(fixture("chatml-think.jinja"));
    CHECK(traits.thinking);
    CHECK_FALSE(traits.tools);
}

TEST_CASE("a template that renders the tool list and tool calls", "[probes][chat_template]")
{
    const auto traits = chat_template_traits(fixture("tools-think.jinja"));
    CHECK(traits.thinking);
    CHECK(traits.tools);
}

TEST_CASE("only code counts for tools, a think tag counts anywhere", "[probes][chat_template]")
{
    // "tools" in the prompt text, or inside a longer name, is not the variable.
    CHECK_FALSE(chat_template_traits("You have no tools.{{ messages[0]['content'] }}").tools);
    CHECK_FALSE(chat_template_traits("{% if toolset %}x{% endif %}{{ my_tools_x }}").tools);
    CHECK(chat_template_traits("{%- if tools is defined and tools %}{{ tools | tojson }}{% endif %}").tools);
    CHECK(chat_template_traits("{{ tools }}").tools);
    // gpt-oss's switch, and reasoning in the history.
    CHECK(chat_template_traits("{%- if reasoning_effort is defined %}x{% endif %}").thinking);
    CHECK(chat_template_traits("{{ message.reasoning_content }}").thinking);
    CHECK_FALSE(chat_template_traits("thinking about it: {{ x }}").thinking);
    // Unclosed tags and stray braces end the scan, never crash it.
    CHECK(chat_template_traits("{{ tools").tools);
    CHECK_FALSE(chat_template_traits("{").tools);
    CHECK_FALSE(chat_template_traits("").thinking);
}
