#include "rules/rule_file_pieces.hpp"

#include <algorithm>

namespace halo::rules {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view skip_blanks(std::string_view s)
{
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    return s;
}

// True when `line` (without its newline) is an array-of-tables header naming one of `names`.
bool is_entry_header(std::string_view line, std::span<const std::string_view> names)
{
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = skip_blanks(line);
    if (!line.starts_with("[[")) return false;
    line = skip_blanks(line.substr(2));
    const std::size_t end = line.find_first_of(" \t]");
    if (end == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, end);
    if (std::find(names.begin(), names.end(), name) == names.end()) return false;
    line = skip_blanks(line.substr(end));
    if (!line.starts_with("]]")) return false;
    line = skip_blanks(line.substr(2));
    return line.empty() || line.front() == '#';
}

} // namespace

std::vector<TextPiece> split_at_entry_headers(std::string_view text, std::span<const std::string_view> names)
{
    std::vector<TextPiece> pieces;
    std::size_t piece_start = 0;
    std::size_t piece_line = 1;
    std::size_t line_start = 0;
    std::size_t line = 1;
    const auto close_piece = [&](std::size_t end) {
        if (end > piece_start) pieces.push_back({text.substr(piece_start, end - piece_start), piece_line});
    };
    while (line_start < text.size()) {
        const std::size_t newline = text.find('\n', line_start);
        const std::size_t line_end = newline == std::string_view::npos ? text.size() : newline;
        // Only a line starting with '[' or a blank can be a header: most lines are decided by
        // their first byte.
        const char first = text[line_start];
        if ((first == '[' || blank(first)) && is_entry_header(text.substr(line_start, line_end - line_start), names)) {
            close_piece(line_start);
            piece_start = line_start;
            piece_line = line;
        }
        if (newline == std::string_view::npos) break;
        line_start = newline + 1;
        ++line;
    }
    close_piece(text.size());
    return pieces;
}

} // namespace halo::rules
