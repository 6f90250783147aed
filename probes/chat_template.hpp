#pragma once
// What a model's chat template (GGUF tokenizer.chat_template, Jinja text) can render, read from
// its text without running it: whether it has a thinking section, and whether it renders tools.
// The engine's behaviour follows from these: llama-server turns thinking on for a template whose
// output changes with enable_thinking, and answers 400 to a request with tools when the template
// cannot render them. Pure: text in, traits out.

#include <string_view>

namespace halo::probes {

struct ChatTemplateTraits {
    // A <think> section, the enable_thinking switch, reasoning_content in the history, or
    // gpt-oss's reasoning_effort: the template can render the model's reasoning.
    bool thinking = false;
    // The template reads the `tools` variable inside a Jinja tag ({% if tools %}, {{ tools }},
    // `for tool in tools`): it renders the tool list the request carries.
    bool tools = false;
};

ChatTemplateTraits chat_template_traits(std::string_view jinja);

} // namespace halo::probes
