#include "rules/log_title.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace halo::rules;

namespace {

std::string fill(std::string_view title, std::vector<std::string> groups, const Facts& facts = {})
{
    return fill_title(title, groups, facts);
}

} // namespace

TEST_CASE("log title: {N} is the regex's group N, {0} the whole match", "[rules][log_title]")
{
    CHECK(fill("model file not found: {1}", {"failed to open '/x.gguf'", "/x.gguf"}) ==
          "model file not found: /x.gguf");
    CHECK(fill("port {2} on {1}", {"m", "127.0.0.1", "8080"}) == "port 8080 on 127.0.0.1");
    CHECK(fill("[{0}]", {"whole"}) == "[whole]");
    CHECK(fill("{1}{1}", {"m", "ab"}) == "abab");
    // A group the match did not take part in, or one beyond the regex's, is empty.
    CHECK(fill("a{1}b{7}c", {"m", ""}) == "abc");
    CHECK(fill("no placeholders", {}) == "no placeholders");
}

TEST_CASE("log title: {fact.key} is a fact, unset reads (unknown)", "[rules][log_title]")
{
    Facts facts;
    facts.set("engine.model.path", "/m.bin");
    CHECK(fill("'{engine.model.path}' is not a GGUF file", {"m"}, facts) == "'/m.bin' is not a GGUF file");
    CHECK(fill("kernel {kernel.release}", {"m"}, facts) == "kernel (unknown)");
}

TEST_CASE("log title: braces that are no placeholder stay as written, {{ and }} are braces", "[rules][log_title]")
{
    CHECK(fill("{{1}} is {1}", {"m", "x"}) == "{1} is x");
    CHECK(fill("a {word} b", {"m"}) == "a {word} b");
    CHECK(fill("{} {", {"m"}) == "{} {");
    CHECK(fill("unclosed {1", {"m", "x"}) == "unclosed {1");
    CHECK(fill("}", {}) == "}");
    CHECK(fill("{123}", {"m"}) == "{123}"); // three digits: no group
    CHECK(fill("{.a}{a.}{a..b}{a b.c}", {"m"}) == "{.a}{a.}{a..b}{a b.c}");
}

TEST_CASE("log title: hostile captures cannot forge placeholders, lines or length", "[rules][log_title]")
{
    Facts facts;
    facts.set("secret.value", "do-not-show");
    // A capture that looks like a placeholder is text, not read again.
    CHECK(fill("got {1}", {"m", "{2}{secret.value}{{"}, facts) == "got {2}{secret.value}{{");
    // Control characters (a forged second log line, terminal escapes, NUL) become '?'.
    CHECK(fill("got {1}", {"m", std::string("a\nb\rc\x1b[31m\x7f") + '\0' + "d"}) == "got a?b?c?[31m??d");
    // One placeholder brings at most k_max_placeholder_bytes, cut at a character boundary.
    const std::string huge(10000, 'x');
    const std::string filled = fill("{1}", {"m", huge});
    CHECK(filled == std::string(k_max_placeholder_bytes, 'x') + "…");
    std::string accents;
    while (accents.size() < 2 * k_max_placeholder_bytes) accents += "é"; // two bytes each
    const std::string cut = fill("{1}", {"m", "x" + accents});
    CHECK(cut.size() <= k_max_placeholder_bytes + std::string("…").size());
    CHECK(cut.substr(cut.size() - 3) == "…");
    CHECK(cut.substr(cut.size() - 5, 2) == "é"); // no half character before the ellipsis
    // A fact's value is bounded and cleaned the same way.
    facts.set("engine.model.path", std::string(300, 'p') + "\n");
    CHECK(fill("{engine.model.path}", {"m"}, facts) == std::string(k_max_placeholder_bytes, 'p') + "…");
}

TEST_CASE("log title: a group beyond the regex's is a problem, facts and literals are not", "[rules][log_title]")
{
    CHECK(title_problems("model file not found: {1}", 1).empty());
    CHECK(title_problems("{0}", 0).empty());
    CHECK(title_problems("{engine.model.path} and {word} and {{3}}", 0).empty());
    const auto problems = title_problems("port {2} on {1}", 1);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == "'title' uses {2} but the regex has 1 group");
    CHECK(title_problems("{3}", 2) == std::vector<std::string>{"'title' uses {3} but the regex has 2 groups"});
}

TEST_CASE("log title: the fact keys a title names", "[rules][log_title]")
{
    CHECK(title_fact_keys("'{engine.model.path}' on {kernel.release}, {1}, {{a.b}}") ==
          std::vector<std::string>{"engine.model.path", "kernel.release"});
    CHECK(title_fact_keys("plain").empty());
}
