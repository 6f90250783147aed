#include "daemon/checkd/output_pacing.hpp"

#include <catch2/catch.hpp>

using namespace halo::checkd;
using namespace std::chrono_literals;

TEST_CASE("output pacing: new output is written at once after a quiet second, else when it is up",
          "[daemon][output_pacing]")
{
    const PacingClock::time_point t0{};
    CHECK(output_write_delay(std::nullopt, t0 + 5s, 1s) == 0s); // never written: now
    CHECK(output_write_delay(t0, t0 + 1s, 1s) == 0s);
    CHECK(output_write_delay(t0, t0 + 1h, 1s) == 0s);
    CHECK(output_write_delay(t0, t0, 1s) == 1s); // just written (a state change): the rest of the second
    CHECK(output_write_delay(t0, t0 + 300ms, 1s) == 700ms);
    CHECK(output_write_delay(t0, t0 + 999ms, 1s) == 1ms);
    CHECK(output_write_delay(t0 + 2s, t0 + 1s, 1s) == 0s); // a write "in the future" holds nothing back
}
