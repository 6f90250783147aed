#pragma once
// The `halo-check` command: a subcommand table over the library.

namespace halo::check {

int cli_main(int argc, char** argv);

} // namespace halo::check
