#include "probes/engine_probe.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include "probes/containers_probe.hpp"
#include "probes/host.hpp"
#include "probes/runner.hpp"
#include "rules/facts.hpp"

#include "gguf_writer.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace halo::probes;
using halo::rules::ProbeState;
namespace fs = std::filesystem;

namespace {

const std::string k_hosts = std::string(HALO_TEST_DATA) + "/hosts/";

using halo::test::TempDir;

void write(const fs::path& file, std::string_view text)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

// containers, then engine, as the registry runs them.
halo::rules::Facts probe(const ProbeContext& context)
{
    halo::rules::Facts facts;
    run_probe_in_process(k_containers_probe, context, facts);
    run_probe_in_process(k_engine_probe, context, facts);
    return facts;
}

ProbeContext context_for(const Host& host) { return ProbeContext{host, std::chrono::milliseconds(5000), {}, {}, {}}; }

std::string get(const halo::rules::Facts& f, std::string_view key) { return f.get(key).value_or("<absent>"); }

ProbeState state(const halo::rules::Facts& f) { return f.probes().at("engine").state; }

} // namespace

TEST_CASE("good host: RADV toolbox, GLM-4.7-Flash Q8_0", "[probes][engine]")
{
    Host host(k_hosts + "strix-fedora43-good");
    const auto f = probe(context_for(host));
    CHECK(state(f) == ProbeState::ok);
    CHECK(get(f, "engine.name") == "glm-4.7-flash");
    CHECK(get(f, "engine.wrapper") == "toolbox");
    CHECK(get(f, "engine.container") == "llama-vulkan-radv");
    CHECK(get(f, "engine.container.exists") == "true");
    CHECK(get(f, "engine.image") == "docker.io/kyuz0/amd-strix-halo-toolboxes:vulkan-radv");
    CHECK(get(f, "engine.image.tag") == "vulkan-radv");
    CHECK(get(f, "engine.image.created") == "2026-04-26T03:12:44Z");
    CHECK(get(f, "engine.image.digest").starts_with("sha256:"));
    CHECK(get(f, "engine.backend") == "vulkan");
    CHECK(get(f, "engine.ctx_size") == "65536");
    CHECK(get(f, "engine.flash_attn") == "auto");
    CHECK(get(f, "engine.mmap") == "off");
    CHECK(get(f, "engine.model.name") == "GLM-4.7-Flash");
    CHECK(get(f, "engine.model.architecture") == "deepseek2");
    CHECK(get(f, "engine.model.context_length") == "202752");
    CHECK(get(f, "engine.model.file_type") == "7");
    CHECK(get(f, "engine.model.file_type_name") == "Q8_0");
    CHECK(get(f, "engine.model.split_count") == "1");
    CHECK(get(f, "engine.model.size_bytes") ==
          std::to_string(fs::file_size(
              k_hosts + "strix-fedora43-good/mnt/ai-models/GLM-4.7-Flash-Q8/GLM-4.7-Flash-UD-Q8_K_XL.gguf")));
}

TEST_CASE("ROCm hosts: backend from the tag, split model sizes summed", "[probes][engine]")
{
    Host rocm(k_hosts + "strix-fedora43-fw20251125-rocm");
    auto f = probe(context_for(rocm));
    CHECK(get(f, "engine.backend") == "rocm");
    CHECK(get(f, "engine.image.tag") == "rocm-7.2");
    CHECK(get(f, "engine.flash_attn") == "on");

    Host broken(k_hosts + "strix-fedora43-nextboot-broken");
    f = probe(context_for(broken));
    CHECK(state(f) == ProbeState::ok);
    CHECK(get(f, "engine.container") == "llama-rocm-7.1.1");
    CHECK(get(f, "engine.image.created") == "2025-12-20T11:42:07Z");
    CHECK(get(f, "engine.model.split_count") == "2");
    const std::string dir = k_hosts + "strix-fedora43-nextboot-broken/mnt/ai-models/GLM-4.7-Flash-BF16/";
    CHECK(get(f, "engine.model.size_bytes") ==
          std::to_string(fs::file_size(dir + "GLM-4.7-Flash-BF16-00001-of-00002.gguf") +
                         fs::file_size(dir + "GLM-4.7-Flash-BF16-00002-of-00002.gguf")));
    CHECK(get(f, "engine.model.file_type_name") == "BF16");
}

TEST_CASE("model not readable: partial, path named, model facts unknown", "[probes][engine]")
{
    Host host(k_hosts + "debian12-nogpu");
    const auto f = probe(context_for(host));
    CHECK(state(f) == ProbeState::partial);
    CHECK_THAT(f.probes().at("engine").reason,
               Catch::Contains("GLM-4.7-Flash-UD-Q8_K_XL.gguf") && Catch::Contains("No such file"));
    CHECK(get(f, "engine.wrapper") == "distrobox");
    CHECK(get(f, "engine.container") == "llama-vulkan-radv");
    CHECK(get(f, "engine.model.path") == "/mnt/ai-models/GLM-4.7-Flash-Q8/GLM-4.7-Flash-UD-Q8_K_XL.gguf");
    CHECK_FALSE(f.contains("engine.model.context_length"));
    CHECK(f.unknown_reason("engine.model.context_length"));
    // Positive evidence that llama-server cannot load it, with the reason as the fact's source.
    CHECK(get(f, "engine.model.readable") == "false");
    CHECK_THAT(f.find("engine.model.readable")->source, Catch::Contains("No such file"));
    CHECK_FALSE(f.contains("engine.model.gguf"));
    CHECK_FALSE(f.contains("engine.binary.found")); // distrobox: the program is the container's
}

TEST_CASE("no engine configured: not applicable, no facts", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    auto f = probe(context_for(host));
    CHECK(state(f) == ProbeState::not_applicable);
    CHECK(f.keys_matching("engine.*").empty());

    write(dir.path / "etc/halo-check/config.toml", "[daemon]\ninterval = 60\n");
    f = probe(context_for(host));
    CHECK(state(f) == ProbeState::not_applicable);
}

TEST_CASE("config lookup order and errors", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    write(dir.path / "etc/halo-check/config.toml", "[engine]\ncommand = [\"llama-server\", \"--port\", \"1\"]\n");
    write(dir.path / "home/u/.config/halo-check/config.toml",
          "[engine]\ncommand = [\"llama-server\", \"--port\", \"2\"]\n");
    CHECK(get(probe(context_for(host)), "engine.port") == "1"); // no $HOME on a fixture host
    host.set_env("HOME", "/home/u");
    CHECK(get(probe(context_for(host)), "engine.port") == "2");
    host.set_env("XDG_CONFIG_HOME", "/xdg");
    CHECK(get(probe(context_for(host)), "engine.port") == "1"); // $XDG_CONFIG_HOME wins, but has no file

    auto context = context_for(host);
    context.config_path = "/missing.toml";
    auto f = probe(context);
    CHECK(state(f) == ProbeState::failed);
    CHECK_THAT(f.probes().at("engine").reason, Catch::Contains("missing.toml"));

    write(dir.path / "bad.toml", "[engine]\ncommand = \"llama-server -m x\"\n");
    context.config_path = "/bad.toml";
    f = probe(context);
    CHECK(state(f) == ProbeState::failed);
    CHECK_THAT(f.probes().at("engine").reason,
               Catch::Contains("/bad.toml:2:11: [engine] command must be a non-empty array of strings"));

    write(dir.path / "bad.toml", "[engine\n");
    f = probe(context);
    CHECK_THAT(f.probes().at("engine").reason, Catch::Contains("/bad.toml:1:"));

    write(dir.path / "bad.toml", "[engine]\ncommand = [\"llama-server\", \"-c\", \"big\"]\n");
    f = probe(context);
    CHECK(state(f) == ProbeState::failed);
    CHECK_THAT(f.probes().at("engine").reason, Catch::Contains("invalid context size 'big'"));
}

TEST_CASE("command line overrides config, ~ expands, backend override, missing container", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    host.set_env("HOME", "/home/u");
    halo::test::GgufWriter::glm_flash(true).write(dir.path / "home/u/models/GLM-4.7-Flash-Q8_0.gguf", 4096);
    write(dir.path / "etc/halo-check/config.toml",
          "[engine]\nname = \"x\"\ncontainer = \"llama-rocm-7.2\"\nbackend = \"cpu\"\n"
          "command = [\"llama-server\", \"-m\", \"~/models/GLM-4.7-Flash-Q8_0.gguf\"]\n");
    auto f = probe(context_for(host));
    CHECK(state(f) == ProbeState::ok);
    CHECK(get(f, "engine.model.path") == "/home/u/models/GLM-4.7-Flash-Q8_0.gguf");
    CHECK(get(f, "engine.model.context_length") == "202752"); // stored as uint64
    CHECK(get(f, "engine.container") == "llama-rocm-7.2");    // from config: the command names none
    CHECK(get(f, "engine.backend") == "cpu");
    CHECK(get(f, "engine.container.exists") == "false"); // no storage: containers not applicable

    auto context = context_for(host);
    context.engine_command =
        std::vector<std::string>{"toolbox", "run", "-c", "llama-vulkan-radv", "llama-server", "-hf", "a/b"};
    f = probe(context);
    CHECK(state(f) == ProbeState::ok);
    CHECK(get(f, "engine.container") == "llama-vulkan-radv");
    CHECK(get(f, "engine.backend") == "vulkan"); // from the container name: no image tag known
    CHECK_FALSE(f.contains("engine.name"));
    CHECK(f.unknown_reason("engine.model.name"));
}

TEST_CASE("an API key anywhere is engine.api_key = set, never the key", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    auto context = context_for(host);
    context.config_path = "/c.toml";
    auto with = [&](const std::string& table) {
        write(dir.path / "c.toml", "[engine]\n" + table);
        return probe(context);
    };
    auto f = with("command = [\"llama-server\", \"--api-key\", \"sk-secret-1\"]\n");
    CHECK(get(f, "engine.api_key") == "set");
    for (const auto& [key, fact] : f.all()) CHECK(fact.value.find("sk-secret-1") == std::string::npos);
    CHECK(get(with("command = [\"llama-server\", \"--api-key-file=/k\"]\n"), "engine.api_key") == "set");
    CHECK(get(with("command = [\"llama-server\"]\napi_key_file = \"/k\"\n"), "engine.api_key") == "set");
    f = with("command = [\"llama-server\"]\n[engine.env]\nLLAMA_API_KEY = \"sk-secret-2\"\n");
    CHECK(get(f, "engine.api_key") == "set");
    for (const auto& [key, fact] : f.all()) CHECK(fact.value.find("sk-secret-2") == std::string::npos);
    CHECK(get(with("command = [\"llama-server\"]\n"), "engine.api_key") == "<absent>");
}

TEST_CASE("[engine.env] and the command give engine.env facts, never a secret", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    auto context = context_for(host);
    context.config_path = "/c.toml";
    write(dir.path / "c.toml", "[engine]\n"
                               "command = [\"env\", \"HSA_ENABLE_SDMA=0\", \"llama-server\"]\n"
                               "[engine.env]\n"
                               "HSA_OVERRIDE_GFX_VERSION = \"12.0.1\"\n"
                               "HSA_ENABLE_SDMA = \"1\"\n"
                               "HF_TOKEN = \"hf_secret_value\"\n"
                               "LLAMA_ARG_HF_TOKEN = \"hf_other_secret\"\n"
                               "LLAMA_API_KEY = \"sk-secret-3\"\n");
    const auto f = probe(context);
    CHECK(get(f, "engine.env.HSA_OVERRIDE_GFX_VERSION") == "12.0.1");
    REQUIRE(f.find("engine.env.HSA_OVERRIDE_GFX_VERSION"));
    CHECK(f.find("engine.env.HSA_OVERRIDE_GFX_VERSION")->source.find("[engine.env]") != std::string::npos);
    CHECK(get(f, "engine.env.HSA_ENABLE_SDMA") == "0"); // the command's env wins over the config's
    for (const auto& [key, fact] : f.all()) {
        INFO(key);
        CHECK(fact.value.find("secret") == std::string::npos);
        CHECK(fact.value.find("sk-secret-3") == std::string::npos);
    }
    CHECK(get(f, "engine.env.HF_TOKEN") == "<absent>");
    CHECK(get(f, "engine.env.LLAMA_ARG_HF_TOKEN") == "<absent>");
    CHECK(get(f, "engine.env.LLAMA_API_KEY") == "<absent>");
    CHECK(get(f, "engine.api_key") == "set");
}

TEST_CASE("the model's size label, and the container's own environment", "[probes][engine]")
{
    TempDir dir;
    fs::copy(k_hosts + "strix-fedora43-good", dir.path, fs::copy_options::recursive);
    // A dense 27B model as llama.cpp's converter writes its general.* keys.
    halo::test::GgufWriter w(6);
    w.kv_string("general.architecture", "gemma3");
    w.kv_string("general.name", "Gemma 3 27b It");
    w.kv_string("general.size_label", "27B");
    w.kv_u32("general.file_type", 15);
    w.kv_u32("gemma3.context_length", 131072);
    w.kv_string_array("tokenizer.ggml.tokens", {"<pad>", "<eos>"});
    w.write(dir.path / "mnt/ai-models/gemma-3-27b-it-Q4_K_M.gguf", 4096);
    Host host(dir.path);
    auto context = context_for(host);
    context.engine_command =
        std::vector<std::string>{"toolbox",           "run", "-c",
                                 "llama-vulkan-radv", "env", "GGML_VK_VISIBLE_DEVICES=1",
                                 "llama-server",      "-m",  "/mnt/ai-models/gemma-3-27b-it-Q4_K_M.gguf"};
    auto f = probe(context);
    CHECK(get(f, "engine.model.size_label") == "27B");
    CHECK(get(f, "engine.model.architecture") == "gemma3");
    CHECK_FALSE(f.contains("engine.env.HSA_OVERRIDE_GFX_VERSION")); // no libpod database: nothing known

    // podman's libpod database with the container's spec: its environment, the image's included.
    const std::string id = get(f, "container.llama-vulkan-radv.id");
    REQUIRE(id != "<absent>");
    write(dir.path / "home/user/.local/share/containers/storage/libpod/bolt_state.db",
          std::string("\x00\x01page\x00", 7) +
              R"({"spec":{"ociVersion":"1.0.2-dev","process":{"args":["toolbox","init-container"],"env":[)"
              R"("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin","container=oci",)"
              R"("HSA_OVERRIDE_GFX_VERSION=11.0.0","GGML_VK_VISIBLE_DEVICES=0","HF_TOKEN=hf_in_the_image"]}},"id":")" +
              id + R"(","name":"llama-vulkan-radv","labels":{"com.github.containers.toolbox":"true"}})");
    f = probe(context);
    CHECK(get(f, "container.llama-vulkan-radv.env.HSA_OVERRIDE_GFX_VERSION") == "11.0.0");
    CHECK(get(f, "engine.env.HSA_OVERRIDE_GFX_VERSION") == "11.0.0");
    CHECK(get(f, "engine.env.GGML_VK_VISIBLE_DEVICES") == "1"); // the command's env wins
    CHECK(get(f, "container.llama-vulkan-radv.toolbox") == "true");
    for (const auto& [key, fact] : f.all()) {
        INFO(key);
        CHECK(fact.value.find("hf_in_the_image") == std::string::npos);
        CHECK(key.find("HF_TOKEN") == std::string::npos);
        CHECK(key.find(".env.PATH") == std::string::npos);
    }
}

TEST_CASE("hostile model file: partial with the reason", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    halo::test::GgufWriter w(1);
    w.key("general.name", halo::test::GgufWriter::str).pod<std::uint64_t>(1ull << 60);
    w.write(dir.path / "m/model.gguf");
    auto context = context_for(host);
    context.engine_command = std::vector<std::string>{"llama-server", "-m", "/m/model.gguf"};
    auto f = probe(context);
    CHECK(state(f) == ProbeState::partial);
    CHECK_THAT(f.probes().at("engine").reason,
               Catch::Contains("model.gguf") && Catch::Contains("string length 1152921504606846976"));

    // A split set missing a part: the header is read, the size is unknown.
    halo::test::GgufWriter::glm_flash().write(dir.path / "m/GLM-00001-of-00003.gguf");
    halo::test::GgufWriter::glm_flash().write(dir.path / "m/GLM-00002-of-00003.gguf");
    context.engine_command = std::vector<std::string>{"llama-server", "-m", "/m/GLM-00001-of-00003.gguf"};
    f = probe(context);
    CHECK(state(f) == ProbeState::partial);
    CHECK_THAT(f.probes().at("engine").reason, Catch::Contains("split part 3 of 3 is missing"));
    CHECK(get(f, "engine.model.name") == "GLM-4.7-Flash");
    CHECK(get(f, "engine.model.split_count") == "3");
    CHECK_FALSE(f.contains("engine.model.size_bytes"));
}

TEST_CASE("model file: unreadable and not GGUF are facts, a good one says so", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    auto context = context_for(host);
    auto with_model = [&](const std::string& model) {
        context.engine_command =
            std::vector<std::string>{"toolbox", "run", "-c", "llama-vulkan-radv", "llama-server", "-m", model};
        return probe(context);
    };

    auto f = with_model("/m/missing.gguf");
    CHECK(state(f) == ProbeState::partial);
    CHECK(get(f, "engine.model.readable") == "false");
    CHECK_THAT(f.find("engine.model.readable")->source,
               Catch::Contains("/m/missing.gguf") && Catch::Contains("No such file or directory"));
    CHECK_FALSE(f.contains("engine.model.gguf"));
    CHECK(f.unknown_reason("engine.model.name"));

    fs::create_directories(dir.path / "m/dir.gguf");
    f = with_model("/m/dir.gguf");
    CHECK(get(f, "engine.model.readable") == "false");
    CHECK_THAT(f.find("engine.model.readable")->source, Catch::Contains("not a regular file"));

    write(dir.path / "m/page.gguf", "<!DOCTYPE html><html><body>404 Not Found</body></html>\n");
    f = with_model("/m/page.gguf");
    CHECK(state(f) == ProbeState::partial);
    CHECK(get(f, "engine.model.readable") == "true");
    CHECK(get(f, "engine.model.gguf") == "false");
    CHECK_THAT(f.find("engine.model.gguf")->source, Catch::Contains("/m/page.gguf") && Catch::Contains("GGUF magic"));
    CHECK_FALSE(f.contains("engine.model.name"));

    write(dir.path / "m/empty.gguf", "");
    CHECK(get(with_model("/m/empty.gguf"), "engine.model.gguf") == "false");
    write(dir.path / "m/short.gguf", "GGU");
    CHECK(get(with_model("/m/short.gguf"), "engine.model.gguf") == "false");

    // The magic right but the header beyond our reader: llama.cpp may still load it, so only the
    // header facts are unknown.
    halo::test::GgufWriter lying(1);
    lying.key("general.name", halo::test::GgufWriter::str).pod<std::uint64_t>(1ull << 60);
    lying.write(dir.path / "m/lying.gguf");
    f = with_model("/m/lying.gguf");
    CHECK(state(f) == ProbeState::partial);
    CHECK(get(f, "engine.model.readable") == "true");
    CHECK(get(f, "engine.model.gguf") == "true");

    // No local file to judge: -hf downloads it, a relative path is the engine's working
    // directory's. The header facts are unknown, these two are silent (no rule undecided).
    for (const auto& argv : {std::vector<std::string>{"llama-server", "-hf", "unsloth/GLM-4.7-Flash-GGUF"},
                             std::vector<std::string>{"llama-server", "-m", "models/GLM-4.7-Flash-Q8_0.gguf"},
                             std::vector<std::string>{"llama-server", "--port", "8081"}}) {
        INFO(argv[1]);
        context.engine_command = argv;
        f = probe(context);
        CHECK(f.unknown_reason("engine.model.name"));
        CHECK(f.unknown_reason("engine.model.context_length"));
        for (const char* key : {"engine.model.readable", "engine.model.gguf"}) {
            CHECK_FALSE(f.contains(key));
            CHECK_FALSE(f.unknown_reason(key));
        }
    }

    halo::test::GgufWriter::glm_flash().write(dir.path / "m/GLM-4.7-Flash-Q8_0.gguf");
    f = with_model("/m/GLM-4.7-Flash-Q8_0.gguf");
    CHECK(state(f) == ProbeState::ok);
    CHECK(get(f, "engine.model.readable") == "true");
    CHECK(get(f, "engine.model.gguf") == "true");
    CHECK(get(f, "engine.model.name") == "GLM-4.7-Flash");
}

TEST_CASE("engine program: judged for a command run on the host only", "[probes][engine]")
{
    TempDir dir;
    Host host(dir.path);
    auto context = context_for(host);
    auto with = [&](std::vector<std::string> argv) {
        context.engine_command = std::move(argv);
        return probe(context);
    };
    auto source = [](const halo::rules::Facts& f) {
        const auto* fact = f.find("engine.binary.found");
        return fact ? fact->source : std::string("<absent>");
    };

    auto f = with({"/opt/llama/llama-server", "--port", "8081"});
    CHECK(get(f, "engine.binary.found") == "false");
    CHECK_THAT(source(f), Catch::Contains("'/opt/llama/llama-server' does not exist"));

    write(dir.path / "opt/llama/llama-server", "#!/bin/sh\n");
    fs::permissions(dir.path / "opt/llama/llama-server", fs::perms::owner_read | fs::perms::owner_write);
    f = with({"/opt/llama/llama-server"});
    CHECK(get(f, "engine.binary.found") == "false");
    CHECK_THAT(source(f), Catch::Contains("not an executable file"));

    fs::permissions(dir.path / "opt/llama/llama-server", fs::perms::owner_all);
    f = with({"/opt/llama/llama-server"});
    CHECK(get(f, "engine.binary.found") == "true");
    CHECK(source(f) == "engine:/opt/llama/llama-server");
    f = with({"nohup", "env", "GGML_VK_VISIBLE_DEVICES=0", "/opt/llama/llama-server"}); // launchers skipped
    CHECK(get(f, "engine.binary.found") == "true");
    f = with({"env", "GGML_VK_VISIBLE_DEVICES=0", "/nonexistent/llama-server", "-m", "/m/x.gguf"});
    CHECK(get(f, "engine.binary.found") == "false");
    // An env that may move the lookup (its own PATH, a cleared environment, another directory) is
    // not second-guessed.
    for (const auto& argv : {std::vector<std::string>{"env", "PATH=/elsewhere", "llama-server"},
                             std::vector<std::string>{"env", "-i", "/nonexistent/llama-server"},
                             std::vector<std::string>{"nohup", "/usr/bin/env", "-C", "/srv", "bin/llama-server"}}) {
        INFO(argv[1]);
        CHECK_FALSE(with(argv).contains("engine.binary.found"));
    }

    fs::create_directories(dir.path / "srv/llama-server"); // a directory is not a program
    f = with({"/srv/llama-server"});
    CHECK(get(f, "engine.binary.found") == "false");
    CHECK_THAT(source(f), Catch::Contains("not an executable file"));

    // A bare name: a fixture root has no $PATH unless the test gives it one, and then no answer.
    f = with({"llama-server", "-m", "/m/x.gguf"});
    CHECK_FALSE(f.contains("engine.binary.found"));
    CHECK_FALSE(f.unknown_reason("engine.binary.found")); // silent, not undecided
    host.set_env("PATH", "/usr/local/bin:/usr/bin:/opt/llama");
    f = with({"llama-server"});
    CHECK(get(f, "engine.binary.found") == "true");
    CHECK(source(f) == "engine:/opt/llama/llama-server");
    host.set_env("PATH", "/usr/local/bin:/usr/bin");
    f = with({"llama-server"});
    CHECK(get(f, "engine.binary.found") == "false");
    CHECK_THAT(source(f), Catch::Contains("'llama-server' is not in any directory of $PATH (/usr/local/bin:/usr/bin)"));
    write(dir.path / "usr/local/bin/llama-server", "#!/bin/sh\n");
    f = with({"llama-server"});
    CHECK(get(f, "engine.binary.found") == "false");
    CHECK_THAT(source(f), Catch::Contains("'/usr/local/bin/llama-server', which is not an executable file"));
    f = with({"bin/llama-server"}); // relative to a working directory the fixture does not have
    CHECK_FALSE(f.contains("engine.binary.found"));

    // Inside a container the program is the container's: not judged from the host's files.
    for (const auto& argv :
         {std::vector<std::string>{"toolbox", "run", "-c", "llama-vulkan-radv", "/nonexistent/llama-server"},
          std::vector<std::string>{"podman", "exec", "llama-vulkan-radv", "/nonexistent/llama-server"},
          std::vector<std::string>{"distrobox", "enter", "llama-vulkan-radv", "--", "/nonexistent/llama-server"}}) {
        INFO(argv[0]);
        f = with(argv);
        CHECK(get(f, "engine.binary") == "/nonexistent/llama-server");
        CHECK_FALSE(f.contains("engine.binary.found"));
    }

    // The live machine: its own $PATH, as execvp searches it.
    Host live("/");
    auto live_context = context_for(live);
    live_context.engine_command = std::vector<std::string>{"sh", "-c", "0"};
    auto g = probe(live_context);
    CHECK(get(g, "engine.binary.found") == "true");
    live_context.engine_command = std::vector<std::string>{"halo-no-such-program-anywhere"};
    CHECK(get(probe(live_context), "engine.binary.found") == "false");
}

TEST_CASE("the configuration comes from the config host, the machine's files from the root", "[probes][engine]")
{
    TempDir machine, elsewhere;
    Host host(machine.path);
    write(machine.path / "etc/halo-check/config.toml", "[engine]\ncommand = [\"llama-server\", \"--port\", \"1\"]\n");
    halo::test::GgufWriter::glm_flash().write(machine.path / "m/GLM-4.7-Flash-Q8_0.gguf");
    const fs::path config = elsewhere.path / "config.toml";
    write(config, "[engine]\ncommand = [\"toolbox\", \"run\", \"-c\", \"llama-rocm-7.2\", \"llama-server\", \"-m\", "
                  "\"/m/GLM-4.7-Flash-Q8_0.gguf\", \"--port\", \"2\"]\n");

    // As both programs run it: --config names this machine's file, --root only the machine.
    auto context = context_for(host);
    context.config_host = Host("/");
    context.config_path = config.string();
    auto f = probe(context);
    CHECK(state(f) == ProbeState::ok);
    CHECK(get(f, "engine.port") == "2");
    CHECK(get(f, "engine.model.readable") == "true"); // /m/… read under the root
    CHECK(get(f, "engine.model.name") == "GLM-4.7-Flash");
    CHECK(f.find("engine.port")->source == "engine:" + config.string());

    // The default lookup is the config host's as well, never the root's /etc.
    Host config_home(elsewhere.path);
    write(elsewhere.path / "etc/halo-check/config.toml", "[engine]\ncommand = [\"llama-server\", \"--port\", \"3\"]\n");
    context.config_host = config_home;
    context.config_path.reset();
    CHECK(get(probe(context), "engine.port") == "3");
    fs::remove(elsewhere.path / "etc/halo-check/config.toml");
    f = probe(context);
    CHECK(state(f) == ProbeState::not_applicable); // none on this machine: no engine, whatever the root holds
    CHECK_FALSE(f.contains("engine.port"));

    // A config named outside the root is not looked for under it.
    context.config_host = Host("/");
    context.config_path = (elsewhere.path / "missing.toml").string();
    write(machine.path / elsewhere.path.relative_path() / "missing.toml", "[engine]\ncommand = [\"llama-server\"]\n");
    f = probe(context);
    CHECK(state(f) == ProbeState::failed);
    CHECK_THAT(f.probes().at("engine").reason,
               Catch::Contains("Failed to read '" + (elsewhere.path / "missing.toml").string() + "'"));
}

TEST_CASE("backend guess", "[probes][engine]")
{
    CHECK(guess_backend("rocm-7.2", "", "") == "rocm");
    CHECK(guess_backend("therock-nightly", "", "") == "rocm");
    CHECK(guess_backend("vulkan-amdvlk", "llama-rocm-7.2", "") == "vulkan");
    CHECK(guess_backend("", "llama-rocm7-nightlies", "") == "rocm");
    CHECK(guess_backend("", "", "/opt/llama-vulkan/bin/llama-server") == "vulkan");
    CHECK(guess_backend("latest", "mybox", "llama-server").empty());
}

TEST_CASE("the chat template after the tokenizer arrays gives the thinking and tools facts", "[probes][engine]")
{
    TempDir dir;
    const auto model = [&](const char* name, std::optional<std::string> jinja) {
        halo::test::GgufWriter w(jinja ? 7 : 6);
        w.kv_string("general.architecture", "qwen3");
        w.kv_string("general.name", "Qwen3 4B");
        w.kv_u32("general.file_type", 15);
        w.kv_u32("qwen3.context_length", 40960);
        w.kv_string_array("tokenizer.ggml.tokens", std::vector<std::string>(5000, "tok"));
        w.kv_string("tokenizer.ggml.model", "gpt2");
        if (jinja) w.kv_string("tokenizer.chat_template", *jinja);
        w.write(dir.path / "m" / name);
    };
    model("think.gguf", "{%- if tools %}{{ tools | tojson }}{% endif %}{%- if enable_thinking is false %}<think>"
                        "\n\n</think>{% endif %}");
    model("plain.gguf", "{% for m in messages %}{{ m.content }}{% endfor %}");
    model("none.gguf", std::nullopt);
    Host host(dir.path);
    auto context = context_for(host);
    context.engine_command = std::vector<std::string>{"llama-server", "-m", "/m/think.gguf"};
    auto f = probe(context);
    CHECK(get(f, "engine.model.chat_template.thinking") == "true");
    CHECK(get(f, "engine.model.chat_template.tools") == "true");
    CHECK(get(f, "engine.model.name") == "Qwen3 4B");
    context.engine_command = std::vector<std::string>{"llama-server", "-m", "/m/plain.gguf"};
    f = probe(context);
    CHECK(get(f, "engine.model.chat_template.thinking") == "false");
    CHECK(get(f, "engine.model.chat_template.tools") == "false");
    // No template in the file: llama-server falls back to its own; nothing is claimed.
    context.engine_command = std::vector<std::string>{"llama-server", "-m", "/m/none.gguf"};
    f = probe(context);
    CHECK_FALSE(f.contains("engine.model.chat_template.thinking"));
    CHECK(get(f, "engine.model.context_length") == "40960");
}
