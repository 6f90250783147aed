#include "rules/rule_file_pieces.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace halo::rules;

namespace {

std::string joined(const std::vector<TextPiece>& pieces)
{
    std::string out;
    for (const TextPiece& p : pieces) out += p.text;
    return out;
}

} // namespace

TEST_CASE("a rules file is cut at each entry header, with the line each piece starts at", "[rules][rule_file]")
{
    const std::string text = "# preamble\n[feed]\nname = \"x\"\n"
                             "[[rule]]\nid = \"a\"\n"
                             "  [[ known_good ]]  # indented, blanks inside\nid = \"g\"\n"
                             "[[log_pattern]]\r\nid = \"l\"\r\n"
                             "[[disable]]\nid = \"d\"";
    const auto pieces = split_at_entry_headers(text, k_entry_kinds);
    REQUIRE(pieces.size() == 5);
    CHECK(pieces[0].text == "# preamble\n[feed]\nname = \"x\"\n");
    CHECK(pieces[0].first_line == 1);
    CHECK(pieces[1].text == "[[rule]]\nid = \"a\"\n");
    CHECK(pieces[1].first_line == 4);
    CHECK(pieces[2].first_line == 6);
    CHECK(pieces[3].text == "[[log_pattern]]\r\nid = \"l\"\r\n");
    CHECK(pieces[3].first_line == 8);
    CHECK(pieces[4].text == "[[disable]]\nid = \"d\"");
    CHECK(pieces[4].first_line == 10);
    CHECK(joined(pieces) == text);
}

TEST_CASE("lines that only look like entry headers do not cut", "[rules][rule_file]")
{
    const std::string text = "[[rule]]\nid = \"a\"\n"
                             "[[rule.links]]\n"    // a sub-array of the rule before
                             "[[rules]]\n"         // another name
                             "# [[rule]]\n"        // a comment
                             "x = \"[[rule]]\"\n"  // a value
                             "[[rule]] trailing\n" // not a header: text after it
                             "[rule]\n"            // a table, not an array of tables
                             "[[rule]\n";          // unclosed
    const auto pieces = split_at_entry_headers(text, k_entry_kinds);
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].text == text);
}

TEST_CASE("a header line inside a multi-line string cuts too: the parse that follows decides", "[rules][rule_file]")
{
    // The cut is on text alone; rules/rule_file.cpp parses the whole document when a piece
    // does not parse (here the first piece ends inside the string).
    const std::string text = "[[rule]]\nexplain = \"\"\"\n[[rule]]\n\"\"\"\n";
    const auto pieces = split_at_entry_headers(text, k_entry_kinds);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[1].first_line == 3);
    CHECK(joined(pieces) == text);
}

TEST_CASE("text without entries is one piece, and empty text none", "[rules][rule_file]")
{
    CHECK(split_at_entry_headers("", k_entry_kinds).empty());
    const auto pieces = split_at_entry_headers("[feed]\nname = \"x\"\n", k_entry_kinds);
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].first_line == 1);
}
