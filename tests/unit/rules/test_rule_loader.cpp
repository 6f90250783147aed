#include "rules/rule_loader.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace halo::rules;

namespace {

std::string messages(const std::vector<Diagnostic>& diagnostics)
{
    std::string out;
    for (const auto& d : diagnostics) out += d.message + "\n";
    return out;
}

using halo::test::TempDir;

} // namespace

TEST_CASE("drop-ins override by file name, replace by id and disable", "[rules][loader]")
{
    TempDir usr, etc, extra;
    usr.write("site.toml", "[[rule]]\nid = \"site.one\"\nseverity = \"info\"\ntitle = \"from usr\"\nlinks = [\"x\"]\n"
                           "since = 2026-01-01\nwhen = { \"kernel.release\" = \"*\" }\n");
    etc.write("site.toml", "[[rule]]\nid = \"site.one\"\nseverity = \"info\"\ntitle = \"from etc\"\nlinks = [\"x\"]\n"
                           "since = 2026-01-01\nwhen = { \"kernel.release\" = \"*\" }\n");
    etc.write("00-disable.toml", "[[disable]]\nid = \"site.two\"\n");
    usr.write("other.toml", "[[rule]]\nid = \"site.two\"\nseverity = \"info\"\ntitle = \"two\"\nlinks = [\"x\"]\n"
                            "since = 2026-01-01\nwhen = { \"kernel.release\" = \"*\" }\n");
    extra.write("late.toml",
                "[[rule]]\nid = \"site.one\"\nseverity = \"warning\"\ntitle = \"from --rules\"\nfix = \"f\"\n"
                "links = [\"x\"]\nsince = 2026-01-01\nwhen = { \"kernel.release\" = \"*\" }\n");
    RuleSources sources;
    sources.embedded = false;
    sources.dropin_dirs = {usr.path.string(), etc.path.string()};

    LoadedRules loaded = load_rules(sources);
    INFO(messages(loaded.diagnostics));
    REQUIRE_FALSE(loaded.has_errors());
    REQUIRE(loaded.rules.find_rule("site.one"));
    CHECK(loaded.rules.find_rule("site.one")->title == "from etc");
    CHECK(loaded.rules.find_rule("site.two") == nullptr);

    sources.extra = {extra.path.string()};
    loaded = load_rules(sources);
    REQUIRE(loaded.rules.find_rule("site.one"));
    CHECK(loaded.rules.find_rule("site.one")->title == "from --rules");
    CHECK(loaded.rules.find_rule("site.one")->severity == Severity::warning);
}

TEST_CASE("a missing --rules file is an error naming it", "[rules][loader]")
{
    RuleSources sources;
    sources.embedded = false;
    sources.extra = {"/nonexistent/halo.toml"};
    LoadedRules loaded = load_rules(sources);
    CHECK(loaded.has_errors());
    CHECK_THAT(messages(loaded.diagnostics), Catch::Contains("Failed to read rules file '/nonexistent/halo.toml'"));
}

TEST_CASE("default drop-in directories honour the root and XDG_CONFIG_HOME", "[rules][loader]")
{
    auto dirs = default_dropin_dirs("/", std::string("/home/u/.cfg"), std::string("/home/u"));
    REQUIRE(dirs.size() == 3);
    CHECK(dirs[0] == "/usr/share/halo-check/rules.d");
    CHECK(dirs[1] == "/etc/halo-check/rules.d");
    CHECK(dirs[2] == "/home/u/.cfg/halo-check/rules.d");
    dirs = default_dropin_dirs("/r", std::nullopt, std::string("/home/u"));
    CHECK(dirs[2] == "/r/home/u/.config/halo-check/rules.d");
}
