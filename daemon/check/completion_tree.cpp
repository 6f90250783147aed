#include "daemon/check/completion.hpp"

#include <fmt/core.h>

#include <map>
#include <utility>

namespace halo::check {

namespace {

void visit_below(const std::string& path, const CompletionCommand& command,
                 const std::function<void(const std::string&, const CompletionCommand&)>& visit)
{
    visit(path, command);
    for (const CompletionCommand& sub : command.subcommands) {
        visit_below(path.empty() ? sub.name : path + " " + sub.name, sub, visit);
    }
}

// The word the scripts' tables use for a kind; a choice carries its members after it.
std::string kind_word(const CompletionOption& option)
{
    switch (option.value) {
    case ValueKind::none: return {};
    case ValueKind::text: return "text";
    case ValueKind::file: return "file";
    case ValueKind::directory: return "directory";
    case ValueKind::probes: return "probes";
    case ValueKind::rule: return "rule";
    case ValueKind::command: return "command";
    case ValueKind::choice: {
        std::string word = "choice";
        for (const std::string& c : option.choices) word += " " + c;
        return word;
    }
    }
    return {};
}

std::string joined(const std::vector<std::string>& words)
{
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : " ") + shell_quote(w);
    return out;
}

// One `case` function: PATTERN) printf '%s\n' WORDS ;; for each entry.
std::string case_function(std::string_view name, std::string_view subject, std::string_view comment,
                          const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>& entries)
{
    std::string out = fmt::format("# {}\n{}()\n{{\n    case {} in\n", comment, name, subject);
    for (const auto& [patterns, words] : entries) {
        if (words.empty()) continue;
        std::string alternatives;
        for (const std::string& p : patterns) alternatives += (alternatives.empty() ? "" : "|") + shell_quote(p);
        out += "    " + alternatives + ") printf '%s\\n' " + joined(words) + " ;;\n";
    }
    return out + "    esac\n}\n";
}

} // namespace

ValueKind value_kind_of(std::string_view type_name, std::vector<std::string>& choices)
{
    choices.clear();
    const auto colon = type_name.find(":{");
    if (colon != std::string_view::npos && type_name.back() == '}') {
        std::string_view set = type_name.substr(colon + 2, type_name.size() - colon - 3);
        while (!set.empty()) {
            const auto comma = set.find(',');
            choices.emplace_back(set.substr(0, comma));
            set = comma == std::string_view::npos ? std::string_view{} : set.substr(comma + 1);
        }
        return ValueKind::choice;
    }
    const std::string_view name = type_name.substr(0, type_name.find(':'));
    static const std::map<std::string_view, ValueKind> kinds = {
        {"DIR", ValueKind::directory},    {"FILE", ValueKind::file}, {"PATH", ValueKind::file},
        {"PROBE,...", ValueKind::probes}, {"ID", ValueKind::rule},   {"COMMAND", ValueKind::command}};
    const auto it = kinds.find(name);
    return it == kinds.end() ? ValueKind::text : it->second;
}

void for_each_command(const CompletionCommand& root,
                      const std::function<void(const std::string& path, const CompletionCommand&)>& visit)
{
    visit_below("", root, visit);
}

std::string command_listing(const CompletionCommand& root, std::string_view program)
{
    std::string out;
    for_each_command(root, [&](const std::string& path, const CompletionCommand& command) {
        out += path.empty() ? std::string(program) + ":" : fmt::format("{} {}:", program, path);
        for (const CompletionOption& o : command.options) {
            for (const std::string& name : o.names) out += " " + name;
        }
        out += "\n";
    });
    return out;
}

std::string shell_tables(const CompletionCommand& root, std::string_view prefix)
{
    using Entries = std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>;
    Entries subcommands;
    Entries described;
    Entries options;
    Entries arguments;
    std::map<std::string, std::vector<std::string>> by_kind; // kind word → "path|option" patterns
    for_each_command(root, [&](const std::string& path, const CompletionCommand& command) {
        std::vector<std::string> subs;
        std::vector<std::string> subs_help;
        for (const CompletionCommand& sub : command.subcommands) {
            subs.push_back(sub.name);
            subs_help.push_back(sub.name + ":" + sub.help);
        }
        subcommands.push_back({{path}, subs});
        described.push_back({{path}, subs_help});
        std::vector<std::string> names;
        for (const CompletionOption& o : command.options) {
            for (const std::string& name : o.names) {
                names.push_back(name);
                if (o.value != ValueKind::none) by_kind[kind_word(o)].push_back(path + "|" + name);
            }
        }
        options.push_back({{path}, names});
        if (command.arguments.value != ValueKind::none) arguments.push_back({{path}, {kind_word(command.arguments)}});
    });
    Entries values;
    for (auto& [kind, patterns] : by_kind) values.push_back({patterns, {kind}});

    std::string out;
    out += case_function(fmt::format("{}_subcommands", prefix), "\"$1\"", "The subcommands below a command path.",
                         subcommands);
    out += case_function(fmt::format("{}_described", prefix), "\"$1\"",
                         "The same, as NAME:HELP (zsh shows the help beside each).", described);
    out += case_function(fmt::format("{}_options", prefix), "\"$1\"", "The options of a command path.", options);
    out += case_function(fmt::format("{}_value", prefix), "\"$1|$2\"",
                         "What the value of option $2 of command path $1 is; nothing for a flag.", values);
    out += case_function(fmt::format("{}_arguments", prefix), "\"$1\"",
                         "What the arguments of a command path are; nothing when it takes none.", arguments);
    return out;
}

std::string shell_quote(std::string_view text)
{
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

} // namespace halo::check
