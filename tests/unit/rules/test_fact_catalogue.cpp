// The fact catalogue is a public contract in two places, rules/fact_catalogue.cpp and
// docs/facts.md; these tests keep them equal, and keep the embedded knowledge base to keys the
// catalogue knows, with the fields every entry must carry.

#include "common/toml.hpp"
#include "rules/embedded_rules.hpp"
#include "rules/fact_catalogue.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using halo::rules::fact_catalogue;
using halo::rules::in_catalogue;

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The keys in the first column of docs/facts.md's catalogue table, between its markers.
std::vector<std::string> documented_keys()
{
    const std::string doc = read_text(std::filesystem::path(HALO_SOURCE_DIR) / "docs" / "facts.md");
    const auto begin = doc.find("<!-- catalogue:begin -->");
    const auto end = doc.find("<!-- catalogue:end -->");
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    REQUIRE(begin < end);
    std::vector<std::string> keys;
    std::istringstream lines(doc.substr(begin, end - begin));
    const std::regex row(R"(^\|\s*`([^`]+)`\s*\|)");
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) keys.push_back(m[1].str());
    }
    return keys;
}

struct KbEntry {
    std::string file;
    std::string kind; // rule, known_good, log_pattern
    std::string id;
    const toml::table* table;
};

std::vector<toml::table> parse_embedded()
{
    std::vector<toml::table> docs;
    for (const auto& file : halo::rules::embedded_rule_files()) {
        INFO(file.name);
        auto doc = halo::parse_toml(file.content, file.name);
        if (!doc) FAIL(doc.error().message);
        docs.push_back(std::move(*doc));
    }
    return docs;
}

std::vector<KbEntry> entries(const std::vector<toml::table>& docs)
{
    std::vector<KbEntry> out;
    const auto files = halo::rules::embedded_rule_files();
    for (std::size_t i = 0; i < docs.size(); ++i) {
        for (const char* kind : {"rule", "known_good", "log_pattern"}) {
            const toml::array* list = docs[i][kind].as_array();
            if (!list) continue;
            for (const toml::node& node : *list) {
                const toml::table* t = node.as_table();
                REQUIRE(t);
                out.push_back({files[i].name, kind, (*t)["id"].value_or(std::string{}), t});
            }
        }
    }
    return out;
}

} // namespace

TEST_CASE("catalogue entries are unique and complete", "[rules][catalogue]")
{
    std::set<std::string_view> seen;
    for (const auto& entry : fact_catalogue()) {
        INFO(entry.pattern);
        CHECK(seen.insert(entry.pattern).second);
        CHECK_FALSE(entry.probe.empty());
        CHECK_FALSE(entry.example.empty());
        CHECK_FALSE(entry.description.empty());
        CHECK(in_catalogue(entry.pattern));
    }
    CHECK(seen.size() > 100);
}

TEST_CASE("in_catalogue takes concrete keys and keys with * segments", "[rules][catalogue]")
{
    CHECK(in_catalogue("kernel.release"));
    CHECK(in_catalogue("kernel.cmdline.amdgpu.gttsize"));
    CHECK(in_catalogue("kernel.cmdline.nomodeset"));
    CHECK(in_catalogue("package.linux-firmware.version"));
    CHECK(in_catalogue("gpu.0.firmware.mes"));
    CHECK(in_catalogue("gpu.*.firmware.mes"));
    CHECK(in_catalogue("gpu.*.pci.device"));
    CHECK(in_catalogue("container.llama-rocm-7.2.image.tag")); // an instance name with dots
    CHECK(in_catalogue("container.*.image.tag"));
    CHECK(in_catalogue("vulkan.0.heap.1.device_local"));
    CHECK(in_catalogue("rocm.agent.*.gfx_target"));

    CHECK_FALSE(in_catalogue("kernel.relase"));
    CHECK_FALSE(in_catalogue("kernel"));
    CHECK_FALSE(in_catalogue("gpu.0.pci.devce"));
    CHECK_FALSE(in_catalogue("gpu.*.pci.devce"));
    CHECK_FALSE(in_catalogue("engine.ctx"));
    CHECK_FALSE(in_catalogue("engine.model.size"));
    CHECK_FALSE(in_catalogue("container.*.image.tagg"));
    CHECK_FALSE(in_catalogue(""));
}

TEST_CASE("docs/facts.md documents exactly the catalogue", "[rules][catalogue][docs]")
{
    const std::vector<std::string> documented = documented_keys();
    REQUIRE_FALSE(documented.empty());
    std::set<std::string> doc_set(documented.begin(), documented.end());
    CHECK(doc_set.size() == documented.size()); // no key documented twice

    std::set<std::string> code_set;
    for (const auto& entry : fact_catalogue()) code_set.emplace(entry.pattern);

    for (const auto& key : code_set) {
        INFO("in rules/fact_catalogue.cpp but not in docs/facts.md: " << key);
        CHECK(doc_set.count(key) == 1);
    }
    for (const auto& key : doc_set) {
        INFO("in docs/facts.md but not in rules/fact_catalogue.cpp: " << key);
        CHECK(code_set.count(key) == 1);
    }
}

TEST_CASE("the embedded knowledge base is every rules/kb file", "[rules][kb]")
{
    std::set<std::string> on_disk;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(HALO_SOURCE_DIR) / "rules" / "kb"))
        if (entry.path().extension() == ".toml") on_disk.insert(entry.path().filename().string());
    std::set<std::string> embedded;
    for (const auto& file : halo::rules::embedded_rule_files()) {
        embedded.insert(file.name);
        CHECK(file.content == read_text(std::filesystem::path(HALO_SOURCE_DIR) / "rules" / "kb" / file.name));
    }
    CHECK(embedded == on_disk);
    CHECK(embedded.size() >= 5);
}

TEST_CASE("every knowledge-base entry is complete and uses catalogue keys", "[rules][kb]")
{
    const auto docs = parse_embedded();
    const auto all = entries(docs);
    REQUIRE(all.size() > 40);

    std::set<std::string> ids;
    const std::regex id_form(R"(^[a-z0-9]+([.-][a-z0-9]+)*$)");
    for (const KbEntry& e : all) {
        INFO(e.file << ": " << e.kind << " '" << e.id << "'");
        CHECK(std::regex_match(e.id, id_form));
        CHECK(ids.insert(e.id).second); // unique across the whole KB, not only per file
        const toml::table& t = *e.table;
        CHECK_FALSE(t["title"].value_or(std::string{}).empty());
        CHECK(t["since"].is_date());
        if (const auto since = t["since"].value<toml::date>()) {
            CHECK(*since >= toml::date{2025, 11, 1});
            CHECK(*since <= toml::date{2026, 12, 1}); // the knowledge base's "as of" date: nothing from the future
        }
        const toml::array* links = t["links"].as_array();
        REQUIRE(links);
        CHECK_FALSE(links->empty());
        for (const auto& link : *links) CHECK(link.value_or(std::string{}).rfind("https://", 0) == 0);

        if (e.kind != "known_good") {
            const std::string severity = t["severity"].value_or(std::string{});
            CHECK((severity == "broken" || severity == "warning" || severity == "info"));
            CHECK_FALSE(t["explain"].value_or(std::string{}).empty());
            CHECK_FALSE(t["fix"].value_or(std::string{}).empty());
        }
        if (e.kind == "log_pattern") {
            const std::string regex = t["regex"].value_or(std::string{});
            REQUIRE_FALSE(regex.empty());
            CHECK_NOTHROW(std::regex(regex, std::regex::ECMAScript));
            const std::string source = t["source"].value_or(std::string{"any"});
            CHECK((source == "kernel" || source == "engine" || source == "any"));
        }

        const toml::table* when = t["when"].as_table();
        if (e.kind == "log_pattern" && !when) continue;
        REQUIRE(when);
        CHECK_FALSE(when->empty());
        for (const auto& [key, value] : *when) {
            INFO("when key '" << key.str() << "'");
            CHECK(in_catalogue(key.str()));
            CHECK((value.is_string() || value.is_array() || value.is_table()));
        }
    }
}

TEST_CASE("log patterns match the real lines they were written for", "[rules][kb]")
{
    const auto docs = parse_embedded();
    std::map<std::string, std::regex> by_id;
    for (const KbEntry& e : entries(docs))
        if (e.kind == "log_pattern") by_id.emplace(e.id, std::regex((*e.table)["regex"].value_or(std::string{})));
    auto matches = [&](const std::string& id, const std::string& line) {
        REQUIRE(by_id.count(id) == 1);
        return std::regex_search(line, by_id.at(id));
    };
    // Lines quoted in the field notes (ROCm issues 5745 and 5724, TheRock 737 and 1271, kyuz0 logs).
    CHECK(matches("log.mes-failed-to-respond", "amdgpu 0000:c1:00.0: amdgpu: MES failed to respond to msg=SUSPEND"));
    CHECK(matches("log.mes-failed-to-respond",
                  "[312682.882414] amdgpu 0000:c1:00.0: amdgpu: MES failed to respond to msg=REMOVE_QUEUE"));
    CHECK(matches("log.gpu-reset", "amdgpu 0000:c1:00.0: amdgpu: GPU reset begin!. Source:  3"));
    CHECK(matches(
        "log.ring-timeout",
        "[ 1552.621053] amdgpu 0000:c1:00.0: amdgpu: ring gfx_0.0.0 timeout, signaled seq=25933, emitted seq=25934"));
    CHECK(matches(
        "log.ring-timeout",
        "[drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx_0.0.0 timeout, signaled seq=613206, emitted seq=613208"));
    CHECK_FALSE(matches("log.ring-timeout", "amdgpu 0000:c1:00.0: amdgpu: Ring gfx_0.0.0 reset failed"));
    CHECK(matches("log.gcvm-protection-fault",
                  "amdgpu 0000:c2:00.0: amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x00800932"));
    CHECK(matches("log.memory-access-fault", "Memory access fault by GPU node-1 (Agent handle: 0x1b376c50) on address "
                                             "0x7f762a667000. Reason: Page not present or supervisor privilege."));
    CHECK(matches(
        "log.hsa-status-error-exception",
        ":0:rocdevice.cpp            :3580: 143267106124 us:  Callback: Queue 0x7f2f8a400000 aborting with error : "
        "HSA_STATUS_ERROR_EXCEPTION: An HSAIL operation resulted in a hardware exception. code: 0x1016"));
    CHECK(matches("log.vulkan-device-lost", "terminate called after throwing an instance of 'vk::DeviceLostError'"));
    CHECK(matches("log.vulkan-device-lost", "  what():  vk::Queue::submit: ErrorDeviceLost"));
    CHECK(matches("log.radv-allocation-failure", "radv/amdgpu: Failed to allocate a buffer:"));
    CHECK(
        matches("log.no-rocm-device", "ggml_cuda_init: failed to initialize ROCm: no ROCm-capable device is detected"));
    CHECK(matches("log.prefill-incompatible-with-thinking",
                  "Assistant response prefill is incompatible with enable_thinking"));
    CHECK_FALSE(matches("log.gpu-reset", "amdgpu 0000:c1:00.0: amdgpu: GPU reset succeeded, trying to resume"));
}

TEST_CASE("docs/knowledge-base.md lists exactly the embedded entries", "[rules][kb][docs]")
{
    const std::string doc = read_text(std::filesystem::path(HALO_SOURCE_DIR) / "docs" / "knowledge-base.md");
    std::set<std::string> documented;
    std::istringstream lines(doc);
    const std::regex row(R"(^\|\s*`([^`]+)`\s*\|)");
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) documented.insert(m[1].str());
    }
    std::set<std::string> embedded;
    const auto docs = parse_embedded();
    for (const KbEntry& e : entries(docs)) embedded.insert(e.id);
    for (const auto& id : embedded) {
        INFO("not in docs/knowledge-base.md: " << id);
        CHECK(documented.count(id) == 1);
    }
    for (const auto& id : documented) {
        INFO("in docs/knowledge-base.md but not in rules/kb: " << id);
        CHECK(embedded.count(id) == 1);
    }
}
