// The client rules (rules/kb/client.toml): Claude Code's settings against the engine. Each fires
// on facts built from the field report's setup, stays silent on the known-good stack and on a
// machine without Claude Code, and holds at its edges.

#include "rules/evaluate.hpp"
#include "tests/unit/support/knowledge_base.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

namespace {

using halo::rules::Facts;
using halo::rules::Verdict;
using S = std::set<std::string>;

const S k_client_rules{"client.claude-code-other-port", "client.claude-code-other-host", "client.exposed-without-key",
                       "client.attribution-header", "client.prefill-400-ahead"};

S client_findings(const Facts& facts)
{
    S ids;
    for (const auto& f : halo::rules::evaluate(halo::test::embedded_kb(), facts).findings)
        if (k_client_rules.count(f.rule->id)) ids.insert(f.rule->id);
    return ids;
}

// The known-good Vulkan machine with Claude Code set up right: localhost on the engine's port,
// the attribution header off.
Facts with_claude_code()
{
    Facts facts = halo::test::facts_fixture("ok-vulkan-radv.toml");
    facts.set("client.kind", "claude-code");
    facts.set("client.claude_code.settings", "/home/user/.claude/settings.json");
    facts.set("client.claude_code.base_url", "http://localhost:8080");
    facts.set("client.claude_code.base_url.host", "localhost");
    facts.set("client.claude_code.base_url.port", "8080");
    facts.set("client.claude_code.base_url.loopback", "true");
    facts.set("client.claude_code.points_at_engine", "true");
    facts.set("client.claude_code.attribution_header", "off");
    return facts;
}

// The field report's engine before its workaround: a thinking template, thinking left on, the
// prefill allowed, on a build in the 400 range.
Facts prefill_case()
{
    Facts facts = with_claude_code();
    facts.set("engine.model.chat_template.thinking", "true");
    facts.set("engine.reasoning_budget", "-1");
    facts.set("engine.prefill_assistant", "on");
    facts.set("engine.build", "b8763-ff5ef8278");
    facts.set("engine.build_number", "8763");
    return facts;
}

} // namespace

TEST_CASE("client rules are silent when Claude Code is set up right, and without it", "[rules][kb][client]")
{
    CHECK(client_findings(with_claude_code()).empty());
    CHECK(halo::rules::evaluate(halo::test::embedded_kb(), with_claude_code()).verdict == Verdict::ok);
    CHECK(client_findings(halo::test::facts_fixture("ok-vulkan-radv.toml")).empty());
}

TEST_CASE("the wrong-port fixture is BROKEN and names both ports", "[rules][kb][client][fixtures]")
{
    const Facts facts = halo::test::facts_fixture("broken-claude-code-other-port.toml");
    const auto report = halo::rules::evaluate(halo::test::embedded_kb(), facts);
    CHECK(client_findings(facts) == S{"client.claude-code-other-port"});
    CHECK(report.verdict == Verdict::broken);
    REQUIRE_FALSE(report.findings.empty());
    const auto& first = report.findings.front();
    CHECK(first.rule->id == "client.claude-code-other-port");
    // The report's "because" line carries the two ports.
    S matched;
    for (const auto& [key, value] : first.matched) matched.insert(key + "=" + value);
    CHECK(matched.count("client.claude_code.base_url.port=8081") == 1);
    CHECK(matched.count("engine.port=8080") == 1);
}

TEST_CASE("another host, and a network URL to an engine without a key", "[rules][kb][client]")
{
    Facts facts = with_claude_code();
    facts.set("client.claude_code.points_at_engine", "other-host");
    CHECK(client_findings(facts) == S{"client.claude-code-other-host"});

    facts = with_claude_code();
    facts.set("engine.host", "0.0.0.0");
    facts.set("client.claude_code.base_url.host", "192.168.1.20");
    facts.set("client.claude_code.base_url.loopback", "false");
    S ids = client_findings(facts);
    CHECK(ids.count("client.exposed-without-key") == 1);
    facts.set("engine.api_key", "set");
    CHECK(client_findings(facts).count("client.exposed-without-key") == 0);
}

TEST_CASE("the attribution header warns until engine-check measures the cache reused", "[rules][kb][client]")
{
    Facts facts = with_claude_code();
    facts.set("client.claude_code.attribution_header", "on");
    CHECK(client_findings(facts) == S{"client.attribution-header"});
    facts.set("engine.api.cache-reuse", "warn");
    CHECK(client_findings(facts) == S{"client.attribution-header"});
    facts.set("engine.api.cache-reuse", "pass");
    CHECK(client_findings(facts).empty());
    // Pointed elsewhere: the other-port rule speaks, not this one.
    facts = with_claude_code();
    facts.set("client.claude_code.attribution_header", "on");
    facts.set("client.claude_code.points_at_engine", "other-port");
    CHECK(client_findings(facts).count("client.attribution-header") == 0);
}

TEST_CASE("the prefill 400 ahead: thinking template, Claude Code, a build in the range, no control",
          "[rules][kb][client]")
{
    CHECK(client_findings(prefill_case()) == S{"client.prefill-400-ahead"});
    CHECK(halo::rules::evaluate(halo::test::embedded_kb(), prefill_case()).verdict == Verdict::warning);

    // Each thinking control silences it.
    for (const auto& [key, value] :
         {std::pair{"engine.reasoning_budget", "0"}, std::pair{"engine.enable_thinking", "false"},
          std::pair{"engine.prefill_assistant", "off"}}) {
        INFO(key);
        Facts facts = prefill_case();
        facts.set(key, value);
        CHECK(client_findings(facts).empty());
    }
    // The range's edges: b6161 in, b6160 and b8764 out; an unknown build says nothing.
    for (const auto& [build, in] : {std::pair{"6161", true}, std::pair{"6160", false}, std::pair{"8764", false}}) {
        INFO(build);
        Facts facts = prefill_case();
        facts.set("engine.build_number", build);
        CHECK(client_findings(facts).count("client.prefill-400-ahead") == (in ? 1U : 0U));
    }
    Facts facts = with_claude_code();
    facts.set("engine.model.chat_template.thinking", "true");
    facts.set("engine.reasoning_budget", "-1");
    facts.set("engine.prefill_assistant", "on");
    CHECK(client_findings(facts).empty());
    // A template without thinking.
    facts = prefill_case();
    facts.set("engine.model.chat_template.thinking", "false");
    CHECK(client_findings(facts).empty());
}
