#include "rules/version.hpp"

namespace halo::rules {

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }

int sign(int v) noexcept { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

// Compares two numeric segments without converting: digit strings of any length are valid.
int compare_numeric(std::string_view a, std::string_view b) noexcept
{
    while (!a.empty() && a.front() == '0') a.remove_prefix(1);
    while (!b.empty() && b.front() == '0') b.remove_prefix(1);
    if (a.size() != b.size()) return a.size() > b.size() ? 1 : -1;
    return sign(a.compare(b));
}

struct Evr {
    std::string_view epoch;
    std::string_view version;
    std::string_view release;
};

Evr split_evr(std::string_view s) noexcept
{
    Evr evr;
    std::size_t colon = s.find(':');
    if (colon != std::string_view::npos) {
        bool digits = colon > 0;
        for (std::size_t i = 0; i < colon; ++i) digits = digits && is_digit(s[i]);
        if (digits) {
            evr.epoch = s.substr(0, colon);
            s.remove_prefix(colon + 1);
        }
    }
    const std::size_t dash = s.rfind('-');
    if (dash != std::string_view::npos) {
        evr.version = s.substr(0, dash);
        evr.release = s.substr(dash + 1);
    } else {
        evr.version = s;
    }
    return evr;
}

} // namespace

int rpm_vercmp(std::string_view a, std::string_view b) noexcept
{
    if (a == b) return 0;
    std::size_t i = 0, j = 0;
    const auto at = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
    while (i < a.size() || j < b.size()) {
        while (i < a.size() && !is_alnum(a[i]) && a[i] != '~' && a[i] != '^') ++i;
        while (j < b.size() && !is_alnum(b[j]) && b[j] != '~' && b[j] != '^') ++j;

        const char ca = at(a, i), cb = at(b, j);
        if (ca == '~' || cb == '~') { // pre-release: older than anything, even the end
            if (ca != '~') return 1;
            if (cb != '~') return -1;
            ++i, ++j;
            continue;
        }
        if (ca == '^' || cb == '^') { // post-release snapshot: newer than the end only
            if (ca == '\0') return -1;
            if (cb == '\0') return 1;
            if (ca != '^') return 1;
            if (cb != '^') return -1;
            ++i, ++j;
            continue;
        }
        if (ca == '\0' || cb == '\0') break;

        const bool numeric = is_digit(ca);
        const auto run = [numeric](std::string_view s, std::size_t k) {
            std::size_t end = k;
            while (end < s.size() && (numeric ? is_digit(s[end]) : is_alpha(s[end]))) ++end;
            return end;
        };
        const std::size_t ei = run(a, i), ej = run(b, j);
        const std::string_view sa = a.substr(i, ei - i), sb = b.substr(j, ej - j);
        if (sb.empty()) return numeric ? 1 : -1; // segment types differ: numbers are newer
        const int rc = numeric ? compare_numeric(sa, sb) : sign(sa.compare(sb));
        if (rc != 0) return rc;
        i = ei;
        j = ej;
    }
    if (i >= a.size() && j >= b.size()) return 0;
    return i >= a.size() ? -1 : 1;
}

int evr_compare(std::string_view a, std::string_view b) noexcept
{
    const Evr x = split_evr(a), y = split_evr(b);
    const std::string_view ex = x.epoch.empty() ? "0" : x.epoch, ey = y.epoch.empty() ? "0" : y.epoch;
    if (const int rc = compare_numeric(ex, ey); rc != 0) return rc;
    if (const int rc = rpm_vercmp(x.version, y.version); rc != 0) return rc;
    if (x.release.empty() || y.release.empty()) return 0;
    return rpm_vercmp(x.release, y.release);
}

} // namespace halo::rules
