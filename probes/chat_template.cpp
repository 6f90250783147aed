#include "probes/chat_template.hpp"

#include <cctype>

namespace halo::probes {

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `word` as a whole identifier somewhere in `code`.
bool has_identifier(std::string_view code, std::string_view word)
{
    for (std::size_t at = code.find(word); at != std::string_view::npos; at = code.find(word, at + 1)) {
        const bool starts = at == 0 || !is_word_char(code[at - 1]);
        const std::size_t end = at + word.size();
        const bool ends = end == code.size() || !is_word_char(code[end]);
        if (starts && ends) return true;
    }
    return false;
}

// Calls `visit` with the inside of each {% … %} and {{ … }} tag; text outside tags (the literal
// prompt text) is not code. An unclosed tag runs to the end of the text.
template <typename Visit>
void for_each_tag(std::string_view jinja, Visit visit)
{
    std::size_t i = 0;
    while (i + 1 < jinja.size()) {
        const std::size_t open = jinja.find('{', i);
        if (open == std::string_view::npos || open + 1 >= jinja.size()) return;
        const char kind = jinja[open + 1];
        if (kind != '%' && kind != '{') {
            i = open + 1;
            continue;
        }
        const std::string_view close = kind == '%' ? "%}" : "}}";
        const std::size_t end = jinja.find(close, open + 2);
        const std::size_t stop = end == std::string_view::npos ? jinja.size() : end;
        visit(jinja.substr(open + 2, stop - open - 2));
        if (end == std::string_view::npos) return;
        i = end + 2;
    }
}

} // namespace

ChatTemplateTraits chat_template_traits(std::string_view jinja)
{
    ChatTemplateTraits traits;
    // The tags may appear as literal text ('<think>' in a string) or in code: anywhere counts.
    traits.thinking = jinja.find("<think>") != std::string_view::npos;
    for_each_tag(jinja, [&](std::string_view code) {
        if (has_identifier(code, "enable_thinking") || has_identifier(code, "reasoning_content") ||
            has_identifier(code, "reasoning_effort"))
            traits.thinking = true;
        if (has_identifier(code, "tools")) traits.tools = true;
    });
    return traits;
}

} // namespace halo::probes
