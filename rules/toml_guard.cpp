#include "rules/toml_guard.hpp"

#include <fmt/core.h>

namespace halo::rules {

namespace {

enum class State { code, comment, basic, literal, ml_basic, ml_literal };

} // namespace

Result<void> check_toml_input(std::string_view text, const std::string& origin)
{
    State state = State::code;
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto here = [&] { return fmt::format("{}:{}:{}", origin, line, column); };
        if (c == '\0') return Error{fmt::format("{}: NUL byte in a TOML file; is it a binary file?", here())};
        const std::string_view rest = text.substr(i);
        switch (state) {
        case State::code:
            if (static_cast<unsigned char>(c) >= 0x80) {
                return Error{fmt::format("{}: non-ASCII character outside a string or comment; TOML allows such "
                                         "characters only in quoted strings and keys",
                                         here())};
            }
            if (c == '#') state = State::comment;
            else if (rest.starts_with("\"\"\"")) state = State::ml_basic, i += 2, column += 2;
            else if (rest.starts_with("'''")) state = State::ml_literal, i += 2, column += 2;
            else if (c == '"') state = State::basic;
            else if (c == '\'') state = State::literal;
            break;
        case State::comment:
            if (c == '\n') state = State::code;
            break;
        case State::basic:
            if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i, ++column;
            else if (c == '"' || c == '\n') state = State::code; // an unterminated string: the parser reports it
            break;
        case State::literal:
            if (c == '\'' || c == '\n') state = State::code;
            break;
        case State::ml_basic:
            if (c == '\\' && i + 1 < text.size()) ++i, ++column;
            else if (rest.starts_with("\"\"\"")) state = State::code, i += 2, column += 2;
            break;
        case State::ml_literal:
            if (rest.starts_with("'''")) state = State::code, i += 2, column += 2;
            break;
        }
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {};
}

} // namespace halo::rules
