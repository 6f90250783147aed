#include "feed/builtin_keys.hpp"
#include "feed/minisign.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace halo::feed;

namespace {

std::string data(const std::string& name)
{
    std::ifstream in(std::string(HALO_TEST_DATA) + "/feed/" + name, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<PublicKey> fixture_keys()
{
    auto key = parse_public_key(data("fixture.pub"), "fixture.pub");
    REQUIRE(key);
    return {*key};
}

} // namespace

TEST_CASE("minisign prehashed and legacy signatures made by minisign verify", "[feed][minisign]")
{
    const std::vector<PublicKey> keys = fixture_keys();
    const std::string text = data("feed.toml");
    for (const char* sig_file : {"feed.toml.minisig", "legacy.minisig"}) {
        auto sig = parse_signature(data(sig_file), sig_file);
        REQUIRE(sig);
        CHECK(sig->prehashed == (std::string(sig_file) == "feed.toml.minisig"));
        CHECK(verify(text, *sig, keys).verdict == Verdict::valid);
        CHECK(trusted_comment_field(sig->trusted_comment, "version") == "5");
    }
}

TEST_CASE("a changed byte, a changed trusted comment or another key fails", "[feed][minisign]")
{
    const std::vector<PublicKey> keys = fixture_keys();
    std::string text = data("feed.toml");
    auto sig = parse_signature(data("feed.toml.minisig"), "feed.toml.minisig");
    REQUIRE(sig);
    std::string changed = text;
    changed[changed.size() / 2] ^= 1;
    CHECK(verify(changed, *sig, keys).verdict == Verdict::bad_signature);

    Signature relabelled = *sig;
    relabelled.trusted_comment = "timestamp:1 version=6";
    CHECK(verify(text, relabelled, keys).verdict == Verdict::bad_signature);

    std::vector<PublicKey> builtin;
    for (std::string_view k : builtin_key_texts()) {
        auto key = parse_public_key(k, "built-in");
        REQUIRE(key);
        builtin.push_back(*key);
    }
    CHECK(builtin.size() == 2);
    CHECK(builtin[0].id != builtin[1].id);
    CHECK(verify(text, *sig, builtin).verdict == Verdict::unknown_key);
}

TEST_CASE("malformed keys and signatures are errors naming the file", "[feed][minisign]")
{
    auto key = parse_public_key("untrusted comment: x\nnot-base64!\n", "/etc/halo-check/keys.d/bad.pub");
    REQUIRE_FALSE(key);
    CHECK_THAT(key.error().message, Catch::Contains("'/etc/halo-check/keys.d/bad.pub'"));
    auto two = parse_public_key("a\nb\nc\n", "k.pub");
    REQUIRE_FALSE(two);
    CHECK_THAT(two.error().message, Catch::Contains("minisign -G"));
    std::string sig_text = data("feed.toml.minisig");
    auto short_sig = parse_signature(sig_text.substr(0, sig_text.size() / 2), "f.minisig");
    REQUIRE_FALSE(short_sig);
    CHECK_THAT(short_sig.error().message, Catch::Contains("'f.minisig'"));
    CHECK(parse_signature("", "empty.minisig").error().message.find("not a minisign signature") != std::string::npos);
}

TEST_CASE("key ids print as minisign prints them", "[feed][minisign]")
{
    const std::vector<PublicKey> keys = fixture_keys();
    const std::string pub = data("fixture.pub");
    // minisign's untrusted comment: "minisign public key <ID>".
    CHECK_THAT(pub, Catch::Contains("public key " + key_id_text(keys[0].id)));
    CHECK(trusted_comment_field("version=12 file:x", "version") == "12");
    CHECK(trusted_comment_field("myversion=12", "version").empty());
    CHECK(trusted_comment_field("", "version").empty());
}
