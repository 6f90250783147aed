#include "rules/rule_file.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace halo::rules;

namespace {

const char* const k_good_file = R"toml(
[[rule]]
id = "test.kernel"
severity = "broken"
title = "Kernel too new"
explain = "because"
fix = "downgrade"
links = ["https://example.org/1"]
since = 2026-01-12
when = { "kernel.release" = ">= 6.18.4", "engine.backend" = "rocm", "engine.image.tag" = ["rocm-7.1.1", "rocm-6.4.[23]*"] }

[[rule]]
id = "test.listen"
severity = "warning"
title = "Listens on the network"
fix = "--host 127.0.0.1"
links = ["https://example.org/2"]
since = 2026-01-20
[rule.when]
"engine.host" = { none = ["127.*", "::1", "localhost"] }
"engine.port" = "*"

[[known_good]]
id = "good.vulkan"
title = "Vulkan RADV"
links = ["https://example.org/3"]
since = 2026-02-04
when = { "engine.backend" = "vulkan" }

[[log_pattern]]
id = "log.mes"
regex = "MES failed to respond to msg=([A-Z_]+)"
severity = "broken"
title = "MES hang"
fix = "downgrade firmware"
links = ["https://example.org/4"]
since = 2025-12-09
source = "kernel"
)toml";

std::string messages(const std::vector<Diagnostic>& diagnostics)
{
    std::string out;
    for (const auto& d : diagnostics) out += d.message + "\n";
    return out;
}

} // namespace

TEST_CASE("a well-formed rules file loads every entry kind", "[rules][rule_file]")
{
    RulesFile file = parse_rules_file(k_good_file, "good.toml");
    INFO(messages(file.diagnostics));
    REQUIRE_FALSE(file.has_errors());
    REQUIRE(file.entries.rules.size() == 2);
    const Rule& r = file.entries.rules[0];
    CHECK(r.id == "test.kernel");
    CHECK(r.severity == Severity::broken);
    CHECK(r.since == "2026-01-12");
    CHECK(r.when.size() == 3);
    CHECK(r.where.str() == "good.toml:2:1");
    CHECK(file.entries.rules[1].when.size() == 2);
    REQUIRE(file.entries.known_good.size() == 1);
    REQUIRE(file.entries.log_patterns.size() == 1);
    CHECK(std::regex_search("amdgpu: MES failed to respond to msg=SUSPEND", *file.entries.log_patterns[0].regex));
    CHECK(file.entries.log_patterns[0].source == LogSource::kernel);
}

TEST_CASE("invalid values name the file, line, entry and key", "[rules][rule_file]")
{
    struct Case {
        const char* text;
        const char* expected;
    };
    const Case cases[] = {
        {"[[rule]]\nid = \"a\"\nseverity = \"fatal\"\ntitle = \"t\"\nfix = \"f\"\nwhen = { \"kernel.release\" = \"1\" "
         "}\n",
         "bad.toml:3:12: rule 'a': unknown severity 'fatal'"},
        {"[[rule]]\nid = \"a\"\nseverity = \"broken\"\ntitle = \"t\"\nfix = \"f\"\nwhen = { \"kernel.release\" = \">= "
         "\" }\n",
         "bad.toml:6:29: rule 'a': condition 'kernel.release': '>=' has an operator but no version"},
        {"[[rule]]\nid = \"a\"\nseverity = \"info\"\ntitle = \"t\"\nwhen = { \"kernel.release\" = \"1\" }\n"
         "[[rule]]\nid = \"a\"\nseverity = \"info\"\ntitle = \"t\"\nwhen = { \"kernel.release\" = \"1\" }\n",
         "bad.toml:7:6: rule 'a': duplicate id in this file"},
        {"[[rule]]\nid = \"a\"\nseverity = \"broken\"\ntitle = \"t\"\nfix = \"f\"\n",
         "bad.toml:1:1: rule 'a': missing 'when'"},
        {"[[rule]]\nid = \"a\"\nseverity = \"broken\"\ntitle = \"t\"\nwhen = { \"kernel.release\" = \"1\" }\n",
         "rule 'a': missing 'fix'"},
        {"[[rule]]\nid = \"a\"\nseverity = \"info\"\ntitle = \"t\"\nwhne = { \"kernel.release\" = \"1\" }\n",
         "rule 'a': unknown field 'whne', did you mean 'when'?"},
        {"[[log_pattern]]\nid = \"l\"\nregex = \"(unclosed\"\nseverity = \"info\"\ntitle = \"t\"\n",
         "bad.toml:3:9: log_pattern 'l': 'regex' does not compile"},
        {"[[log_pattern]]\nid = \"l\"\nregex = \"port: (\\\\d+)\"\nseverity = \"info\"\ntitle = \"port {2}\"\n",
         "bad.toml:5:9: log_pattern 'l': 'title' uses {2} but the regex has 1 group"},
        {"[rule]\nid = \"a\"\n", "bad.toml:1:1: 'rule' must be an array of tables: write [[rule]]"},
        {"[[rule]]\nid = \"a\"\nseverity = \"info\"\ntitle = \"t\"\nwhen = { \"kernel.release\" = [] }\n",
         "an empty array matches nothing"},
        {"[[rule]]\nid = \n", "bad.toml:2:6:"},
    };
    for (const Case& c : cases) {
        RulesFile file = parse_rules_file(c.text, "bad.toml");
        INFO(c.text);
        INFO(messages(file.diagnostics));
        CHECK(file.has_errors());
        CHECK(file.entries.rules.empty());
        CHECK_THAT(messages(file.diagnostics), Catch::Contains(c.expected));
    }
}

TEST_CASE("a key outside the catalogue is a warning naming the nearest key", "[rules][rule_file]")
{
    RulesFile file = parse_rules_file(
        "[[rule]]\nid = \"a\"\nseverity = \"info\"\ntitle = \"t\"\nlinks = [\"x\"]\nsince = 2026-01-01\n"
        "when = { \"kernel.relase\" = \"1\" }\n",
        "lint.toml");
    CHECK_FALSE(file.has_errors());
    CHECK(file.entries.rules.size() == 1);
    CHECK_THAT(messages(file.diagnostics),
               Catch::Contains("lint.toml:7:10: rule 'a': fact key 'kernel.relase' is not in "
                               "the catalogue") &&
                   Catch::Contains("did you mean 'kernel.release'?"));
}

TEST_CASE("a fact a log pattern's title names outside the catalogue is a warning", "[rules][rule_file]")
{
    RulesFile file = parse_rules_file("[[log_pattern]]\nid = \"l\"\nregex = \"x\"\nseverity = \"info\"\n"
                                      "title = \"{engine.model.pth}\"\nlinks = [\"x\"]\nsince = 2026-01-01\n",
                                      "lint.toml");
    CHECK_FALSE(file.has_errors());
    CHECK(file.entries.log_patterns.size() == 1);
    CHECK_THAT(messages(file.diagnostics),
               Catch::Contains("lint.toml:5:9: log_pattern 'l': 'title' names fact 'engine.model.pth', which is not in "
                               "the catalogue"));
}

TEST_CASE("rules files: toml++ defects are parse errors", "[rules][rule_file]")
{
    RulesFile file = parse_rules_file("[|]\n", "pipe.toml");
    REQUIRE(file.has_errors());
    CHECK_THAT(file.diagnostics[0].message, Catch::StartsWith("pipe.toml:1:"));
    RulesFile uni = parse_rules_file("[[rule]]\ni =0\"\"\"\"\"e\xEF\xBB\xAA\"\"\"\"\"\"\"\"\"veriti", "u.toml");
    CHECK(uni.has_errors());
}

// A file is read one entry at a time (rules/rule_file_pieces.hpp) and, whenever that cannot be
// trusted, whole: each case here must read as the whole document does.
TEST_CASE("rules files read entry by entry mean what the whole document means", "[rules][rule_file]")
{
    const std::string entry = "severity = \"info\"\ntitle = \"t\"\nwhen = { \"kernel.release\" = \"1\" }\n";
    SECTION("a header line inside a multi-line string is text")
    {
        RulesFile file = parse_rules_file(
            "[[rule]]\nid = \"a\"\n" + entry + "explain = \"\"\"\n[[rule]]\nid = \"b\"\n\"\"\"\n", "s.toml", false);
        INFO(messages(file.diagnostics));
        REQUIRE_FALSE(file.has_errors());
        REQUIRE(file.entries.rules.size() == 1);
        CHECK(file.entries.rules[0].explain == "[[rule]]\nid = \"b\"\n");
    }
    SECTION("a sub-table after another kind's entry belongs to the last rule")
    {
        RulesFile file = parse_rules_file("[[rule]]\nid = \"a\"\nseverity = \"info\"\ntitle = \"t\"\n"
                                          "[[known_good]]\nid = \"g\"\ntitle = \"t\"\nwhen = { \"x.y\" = \"1\" }\n"
                                          "[rule.when]\n\"kernel.release\" = \"1\"\n",
                                          "s.toml", false);
        INFO(messages(file.diagnostics));
        REQUIRE_FALSE(file.has_errors());
        REQUIRE(file.entries.rules.size() == 1);
        CHECK(file.entries.rules[0].when.size() == 1);
        CHECK(file.entries.known_good.size() == 1);
    }
    SECTION("a table defined twice, in two entries' pieces, is an error at the second")
    {
        RulesFile file =
            parse_rules_file("[own]\nx = 1\n[[rule]]\nid = \"a\"\n" + entry + "[own]\ny = 2\n", "s.toml", false, "own");
        REQUIRE(file.has_errors());
        CHECK_THAT(messages(file.diagnostics), Catch::StartsWith("s.toml:8:"));
    }
    SECTION("an inline array of rules that a header extends is an error")
    {
        const std::string inline_rule =
            "rule = [{ id = \"a\", severity = \"info\", title = \"t\", when = { \"kernel.release\" = \"1\" } }]\n";
        REQUIRE_FALSE(parse_rules_file(inline_rule, "s.toml", false).has_errors());
        RulesFile file = parse_rules_file(inline_rule + "[[rule]]\nid = \"b\"\n" + entry, "s.toml", false);
        REQUIRE(file.has_errors());
        CHECK_THAT(messages(file.diagnostics), Catch::StartsWith("s.toml:2:"));
        CHECK(file.entries.rules.empty());
    }
    SECTION("an error in the tenth entry names its line in the file")
    {
        std::string text;
        for (int i = 0; i < 10; ++i) text += "[[rule]]\nid = \"r" + std::to_string(i) + "\"\n" + entry;
        text += "[[rule]]\nid = \"bad\"\nseverity = \"fatal\"\n";
        RulesFile file = parse_rules_file(text, "s.toml", false);
        REQUIRE(file.has_errors());
        CHECK_THAT(messages(file.diagnostics), Catch::Contains("s.toml:53:12: rule 'bad': unknown severity 'fatal'"));
        RulesFile syntax = parse_rules_file(text + "[[rule]]\nid = \n", "s.toml", false);
        REQUIRE(syntax.has_errors());
        CHECK_THAT(messages(syntax.diagnostics), Catch::StartsWith("s.toml:55:6:"));
    }
    SECTION("entries keep their places in the file")
    {
        RulesFile file = parse_rules_file(
            "# a comment\n\n[[rule]]\nid = \"a\"\n" + entry + "\n[[rule]]\nid = \"b\"\n" + entry, "s.toml", false);
        REQUIRE(file.entries.rules.size() == 2);
        CHECK(file.entries.rules[0].where.str() == "s.toml:3:1");
        CHECK(file.entries.rules[1].where.str() == "s.toml:9:1");
    }
}
