#include "daemon/checkd/notification.hpp"
#include "daemon/checkd/speed_watch.hpp"

#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <algorithm>

using namespace halo::checkd;
using halo::app::SmokeFigures;
using halo::rules::Facts;

namespace {

Facts model_facts(const std::string& file_type, const std::string& size)
{
    Facts f;
    f.set("engine.model.path", "/models/glm.gguf");
    f.set("engine.model.file_type", file_type == "Q8_0" ? "7" : "32");
    f.set("engine.model.file_type_name", file_type);
    f.set("engine.model.size_bytes", size);
    f.set("kernel.release", "6.18.5-200.fc43.x86_64");
    return f;
}

SmokeFigures smoke(int n, double generation, double prompt = 120)
{
    SmokeFigures s;
    s.ok = true;
    s.at = fmt::format("2026-01-12T09:{:02d}:00.000Z", n);
    s.predicted_per_second = generation;
    s.prompt_per_second = prompt;
    s.completion_tokens = 10;
    return s;
}

bool has_field(const std::vector<std::string>& fields, const std::string& field)
{
    return std::find(fields.begin(), fields.end(), field) != fields.end();
}

} // namespace

TEST_CASE("speed watch: the model file replaced by a larger one is one regression naming the change",
          "[daemon][speed_watch]")
{
    SpeedWatch w;
    const Facts q8 = model_facts("Q8_0", "1000");
    const Facts bf16 = model_facts("BF16", "4000");
    int n = 0;
    for (int i = 0; i < 4; ++i) CHECK_FALSE(w.smoke(smoke(n++, 18), q8, nullptr));
    CHECK_FALSE(w.smoke(smoke(n++, 9), bf16, nullptr)); // one slow run
    const auto news = w.smoke(smoke(n++, 9), bf16, nullptr);
    REQUIRE(news);
    CHECK(news->message ==
          "Generation 9.0 t/s, was 18.0 t/s, since engine.model.file_type_name Q8_0 → BF16 (and 1 more change)");
    for (int i = 0; i < 5; ++i) CHECK_FALSE(w.smoke(smoke(n++, 9), bf16, nullptr)); // exactly one event

    const auto fields = journal_fields(regression_record(*news));
    CHECK(has_field(fields, std::string("MESSAGE_ID=") + std::string(message_id(JournalEventKind::speed_regression))));
    CHECK(has_field(fields, "PRIORITY=4"));
    CHECK(has_field(fields, "HALO_MODEL_PATH=/models/glm.gguf"));
    CHECK(has_field(fields, "HALO_GENERATION_PER_SECOND=9.00"));
    CHECK(has_field(fields, "HALO_GOOD_GENERATION_PER_SECOND=18.00"));
    CHECK(has_field(fields, "HALO_CHANGES=engine.model.file_type 7 → 32\nengine.model.file_type_name Q8_0 → BF16\n"
                            "engine.model.size_bytes 1000 → 4000"));

    const auto j = w.json();
    CHECK(j["regression"]["message"] == news->message);
    CHECK(j["regression"]["active"] == true);
    CHECK(j["models"]["/models/glm.gguf"]["regressed"] == true);
    CHECK(j["models"]["/models/glm.gguf"]["good"].size() == 4);
}

TEST_CASE("speed watch: the same figures reported again count once", "[daemon][speed_watch]")
{
    SpeedWatch w;
    const Facts f = model_facts("Q8_0", "1000");
    for (int i = 0; i < 4; ++i) CHECK_FALSE(w.smoke(smoke(i, 18), f, nullptr));
    // A state change republishes the last smoke figures: no new run.
    for (int i = 0; i < 5; ++i) CHECK_FALSE(w.smoke(smoke(9, 2), f, nullptr));
    CHECK(w.json()["models"]["/models/glm.gguf"]["recent"].size() == 3);
}

TEST_CASE("speed watch: failed smoke tests are no figures", "[daemon][speed_watch]")
{
    SpeedWatch w;
    SmokeFigures failed = smoke(1, 0);
    failed.ok = false;
    CHECK_FALSE(w.smoke(failed, model_facts("Q8_0", "1"), nullptr));
    CHECK(w.json()["models"].empty());
}

TEST_CASE("speed watch: after a daemon restart the last known good facts stand in", "[daemon][speed_watch]")
{
    SpeedWatch before;
    const Facts q8 = model_facts("Q8_0", "1000");
    for (int i = 0; i < 4; ++i) CHECK_FALSE(before.smoke(smoke(i, 18), q8, nullptr));
    SpeedWatch after;
    after.restore(nlohmann::json::parse(before.json().dump()));
    CHECK(nlohmann::json::parse(after.json().dump())["models"] ==
          nlohmann::json::parse(before.json().dump())["models"]);
    Facts kernel = q8;
    kernel.set("kernel.release", "6.18.7-200.fc43.x86_64");
    CHECK_FALSE(after.smoke(smoke(10, 5), kernel, &q8));
    const auto news = after.smoke(smoke(11, 5), kernel, &q8);
    REQUIRE(news);
    CHECK(news->message ==
          "Generation 5.0 t/s, was 18.0 t/s, since kernel.release 6.18.5-200.fc43.x86_64 → 6.18.7-200.fc43.x86_64");
}

TEST_CASE("speed watch: texts for prompt speed, no change and no diff", "[daemon][speed_watch]")
{
    halo::app::SpeedRegression r;
    r.prompt = 20;
    r.good_prompt = 100;
    r.prompt_slow = true;
    CHECK(regression_message(r, std::nullopt) == "Prompt processing 20.0 t/s, was 100.0 t/s");
    CHECK(regression_message(r, halo::rules::FactsDiff{}) ==
          "Prompt processing 20.0 t/s, was 100.0 t/s, with nothing changed in the facts");
    r.generation_slow = true;
    r.generation = 4;
    r.good_generation = 8;
    CHECK(regression_message(r, std::nullopt) ==
          "Generation 4.0 t/s, was 8.0 t/s; prompt processing 20.0 t/s, was 100.0 t/s");
}

TEST_CASE("speed watch: a broken state file section is ignored", "[daemon][speed_watch]")
{
    SpeedWatch w;
    w.restore(nlohmann::json::parse(
        R"({"models": {"/m": {"recent": [{"generation": "x"}, 5], "good": 3}}, "regression": 7})"));
    const auto j = w.json();
    CHECK(j["models"]["/m"]["recent"].empty());
    CHECK(j["regression"].is_null());
}

TEST_CASE("notification: a speed regression is a warning naming the figures", "[daemon][notification]")
{
    NotificationInput in;
    in.kind = NotificationKind::speed_regression;
    in.engine = "llama-vulkan-radv";
    in.detail = "Generation 9.0 t/s, was 18.0 t/s, since engine.model.file_type_name Q8_0 → BF16";
    const Notification n = compose_notification(in);
    CHECK(n.topic == k_topic_speed);
    CHECK(n.urgency == Urgency::normal);
    CHECK(n.severity == halo::rules::Severity::warning);
    CHECK(n.summary == "llama-vulkan-radv got slower");
    CHECK_THAT(n.body, Catch::StartsWith(in.detail) && Catch::Contains("halo-check bench"));
}
