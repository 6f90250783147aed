#pragma once
// Where a program named in a command line would be found when it is started on the machine, as
// execvp(3) finds it: a name with a '/' is a path, a bare name is searched in $PATH. The engine
// probe uses it to tell an engine that cannot start before anything launches it.
// Reads: stat() and access(X_OK) on the candidates, through the Host. Introduced in 0.1.0.

#include "probes/host.hpp"

#include <string>
#include <string_view>

namespace halo::probes {

struct ProgramLookup {
    enum class Outcome {
        found,
        missing,     // no executable file by that name: exec would fail
        undecidable, // the machine's view cannot answer (a fixture root without $PATH or a working directory)
    };
    Outcome outcome = Outcome::undecidable;
    // found: the path that would run; otherwise why, as a complete fragment.
    std::string detail;
};

// $PATH is the Host's: the process's on the live machine (glibc's "/bin:/usr/bin" when unset, as
// execvp uses), and on a fixture root only what a test gives it, since a copied tree has no
// environment. A relative path is judged only on the live machine, where the working directory is
// the one the exec will use.
ProgramLookup find_program(const Host& host, std::string_view name);

} // namespace halo::probes
