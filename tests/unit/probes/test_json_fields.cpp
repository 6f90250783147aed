#include "probes/json_fields.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using namespace halo::probes;

namespace {

constexpr std::string_view k_strings[] = {"id", "created"};
constexpr std::string_view k_lists[] = {"names"};
const JsonFieldsWanted k_wanted{k_strings, k_lists};

} // namespace

TEST_CASE("json fields: the named fields of each object of an array, the rest skipped", "[probes][json_fields]")
{
    auto r = json_array_fields(
        R"([{"id":"a","names":["x","y",{"z":1},["w"]],"big":{"id":"inner","names":["no"]},"created":"t"},
            {"id":"b","names":"not a list","created":7},
            {"id":"c","id":"d","names":["p"],"names":["q"]}])",
        "images.json", k_wanted);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 3);
    CHECK(r->at(0).string("id") == "a");
    CHECK(r->at(0).list("names") == std::vector<std::string>{"x", "y"});
    CHECK(r->at(0).string("created") == "t");
    CHECK(r->at(0).strings.size() == 2); // nothing of "big"
    CHECK(r->at(1).list("names").empty());
    CHECK(r->at(1).string("created").empty()); // a number is no string
    // A repeated key: the last value, as a DOM lookup finds it.
    CHECK(r->at(2).string("id") == "d");
    CHECK(r->at(2).list("names") == std::vector<std::string>{"q"});
    CHECK(json_array_fields("[]", "images.json", k_wanted)->empty());
}

TEST_CASE("json fields: one object's fields", "[probes][json_fields]")
{
    auto r = json_object_fields(R"({"created":"2026-01-01T00:00:00Z","config":{"created":"inner"}})", "image config",
                                k_wanted);
    REQUIRE(r.ok());
    CHECK(r->string("created") == "2026-01-01T00:00:00Z");
    CHECK_THAT(json_object_fields("[]", "image config", k_wanted).error().message,
               Catch::Equals("image config is not a JSON object"));
    CHECK_THAT(json_object_fields("\"x\"", "image config", k_wanted).error().message,
               Catch::Equals("image config is not a JSON object"));
}

TEST_CASE("json fields: the wrong shape and broken JSON are errors naming the document", "[probes][json_fields]")
{
    CHECK_THAT(json_array_fields(R"({"id":"a"})", "images.json", k_wanted).error().message,
               Catch::Equals("images.json is not a JSON array"));
    CHECK_THAT(json_array_fields("7", "images.json", k_wanted).error().message,
               Catch::Equals("images.json is not a JSON array"));
    CHECK_THAT(json_array_fields(R"([{"id":"a"},[]])", "images.json", k_wanted).error().message,
               Catch::Equals("images.json holds an entry that is not an object"));
    CHECK_THAT(json_array_fields(R"([{"id":"a"},null])", "images.json", k_wanted).error().message,
               Catch::Equals("images.json holds an entry that is not an object"));
    for (std::string_view broken : {"", "[", R"([{"id":"a"})", R"([{"id":"a"}] x)", "[{\"id\":\"\x01\"}]"}) {
        INFO(broken);
        CHECK_THAT(json_array_fields(broken, "images.json", k_wanted).error().message,
                   Catch::StartsWith("images.json is not valid JSON: [json.exception.parse_error."));
    }
}

TEST_CASE("json fields: nesting and entry counts are bounded before they cost memory", "[probes][json_fields]")
{
    // 8 MiB of '[' as a DOM is gigabytes; here it stops at the second one, or at the limit's depth
    // inside an entry.
    const std::string brackets(8u << 20, '[');
    CHECK_THAT(json_array_fields(brackets, "images.json", k_wanted).error().message,
               Catch::Equals("images.json holds an entry that is not an object"));
    CHECK_THAT(json_array_fields(R"([{"id":"a","x":)" + brackets, "images.json", k_wanted).error().message,
               Catch::Equals("images.json is nested deeper than 32 levels"));
    std::string nested = R"([{"id":"a","x":)" + std::string(40, '[') + std::string(40, ']') + "}]";
    CHECK_THAT(json_array_fields(nested, "images.json", k_wanted).error().message,
               Catch::Equals("images.json is nested deeper than 32 levels"));
    CHECK(json_array_fields(nested, "images.json", k_wanted, {64, 10}).ok());

    CHECK(json_array_fields(R"([{},{},{}])", "images.json", k_wanted, {32, 3})->size() == 3);
    CHECK_THAT(json_array_fields(R"([{},{},{},{}])", "images.json", k_wanted, {32, 3}).error().message,
               Catch::Equals("images.json holds more than 3 entries"));
}
