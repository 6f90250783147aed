#include "daemon/checkd/log_sink.hpp"

#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <syslog.h>

#include <string>

using namespace halo::checkd;

// The lines below are llama-server's own (build b1-de3ff81), copied from its stderr.
TEST_CASE("engine lines: llama.cpp's level letter after the elapsed time sets the priority", "[daemon][log_sink]")
{
    CHECK(engine_line_priority("0.00.005.423 E gguf_init_from_file: failed to open GGUF file '/nope.gguf' (No such "
                               "file or directory)") == LOG_ERR);
    CHECK(engine_line_priority("0.00.006.906 E srv  llama_server: exiting due to model loading error") == LOG_ERR);
    CHECK(engine_line_priority("0.00.003.169 W srv  llama_server: security: no API key is set and CORS allows all "
                               "origins") == LOG_WARNING);
    CHECK(engine_line_priority("0.01.515.778 W srv    operator(): unauthorized: Invalid API Key") == LOG_WARNING);
    CHECK(engine_line_priority("0.00.013.065 I srv  llama_server: model loaded") == LOG_INFO);
    CHECK(engine_line_priority("12.34.567.890 D slot update_slots: id  0 | task 0 | kv cache rm") == LOG_DEBUG);
}

TEST_CASE("engine lines: the letter without the time (--no-log-timestamps)", "[daemon][log_sink]")
{
    CHECK(engine_line_priority("E gguf_init_from_file: failed to open GGUF file '/nope.gguf'") == LOG_ERR);
    CHECK(engine_line_priority("W srv  llama_server: security: no API key is set") == LOG_WARNING);
    CHECK(engine_line_priority("I cmn  common_param: common_params_print_info: verbosity = 3") == LOG_INFO);
    CHECK(engine_line_priority("E") == LOG_ERR);
}

TEST_CASE("engine lines: --log-jsonl lines carry their level", "[daemon][log_sink]")
{
    CHECK(engine_line_priority(R"({"type":"log","time":4384,"level":"error","msg":"failed to load model\n"})") ==
          LOG_ERR);
    CHECK(engine_line_priority(R"({"type":"log","time":4384,"level":"warn","msg":"no API key\n"})") == LOG_WARNING);
    CHECK(engine_line_priority(R"({"type":"log","time":4384,"level":"info","msg":"model loaded\n"})") == LOG_INFO);
    CHECK(engine_line_priority(R"({"type":"log","time":4384,"level":"debug","msg":"x"})") == LOG_DEBUG);
    // Text that only looks like a level inside the message is the message's.
    CHECK(engine_line_priority(R"({"type":"log","time":1,"level":"info","msg":"\"level\":\"error\""})") == LOG_INFO);
    CHECK(engine_line_priority(R"({"type":"log","level":)") == LOG_INFO); // cut off
    CHECK(engine_line_priority(R"({"type":"log","level":3})") == LOG_INFO);
}

TEST_CASE("engine lines: a line without a level is info", "[daemon][log_sink]")
{
    CHECK(engine_line_priority("") == LOG_INFO);
    CHECK(engine_line_priority("error: invalid argument: --frobnicate") == LOG_INFO);
    CHECK(engine_line_priority("halo-checkd: failed to execute the engine command: No such file or directory") ==
          LOG_INFO);
    CHECK(engine_line_priority("Error: crun: executable file `llama-server` not found in $PATH") == LOG_INFO);
    CHECK(engine_line_priority("Explaining things") == LOG_INFO);        // a word, not a letter
    CHECK(engine_line_priority("2026 E was a year") == LOG_INFO);        // a number without a dot is no time
    CHECK(engine_line_priority("0.00.001 X srv something") == LOG_INFO); // no such level
    CHECK(engine_line_priority("0.00.001.000E srv glued") == LOG_INFO);
    CHECK(engine_line_priority(".5 E srv") == LOG_INFO);
    CHECK(engine_line_priority(R"({"type":"fit_memory_breakdown","data":{}})") == LOG_INFO);
}

TEST_CASE("engine lines: the export file carries each line's priority", "[daemon][log_sink]")
{
    halo::test::TempDir dir;
    const std::string path = (dir.path() / "export").string();
    {
        LogSink sink(path);
        sink.open_engine_stream("llama-server");
        sink.engine_line("0.00.006.906 E srv  llama_server: exiting due to model loading error");
        sink.engine_line("0.00.003.169 W srv  llama_server: security: no API key is set");
        sink.engine_line("usage text");
    }
    const std::string exported = halo::test::read_text(path);
    CHECK_THAT(exported, Catch::Contains("SYSLOG_IDENTIFIER=llama-server\nPRIORITY=3\nMESSAGE=0.00.006.906 E srv"));
    CHECK_THAT(exported, Catch::Contains("SYSLOG_IDENTIFIER=llama-server\nPRIORITY=4\nMESSAGE=0.00.003.169 W srv"));
    CHECK_THAT(exported, Catch::Contains("SYSLOG_IDENTIFIER=llama-server\nPRIORITY=6\nMESSAGE=usage text\n"));
}

TEST_CASE("records on stderr: the rule once, added only when the message does not name it", "[daemon][log_sink]")
{
    JournalRecord verdict;
    verdict.priority = 3;
    verdict.rule = "rocm.firmware-20251125";
    verdict.message = "Verdict now broken (was not known): rocm.firmware-20251125";
    CHECK(record_line(verdict) == "<3>Verdict now broken (was not known): rocm.firmware-20251125\n");

    JournalRecord pattern;
    pattern.priority = 4;
    pattern.rule = "log.vulkan-device-lost";
    pattern.message = "Vulkan device lost (3 engine lines)";
    CHECK(record_line(pattern) == "<4>Vulkan device lost (3 engine lines) [log.vulkan-device-lost]\n");

    JournalRecord plain;
    plain.message = "System changed\nsecond line";
    CHECK(record_line(plain) == "<6>System changed second line\n");
}
