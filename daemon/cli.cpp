#include "daemon/cli.hpp"

namespace halo::daemon {

int cli_main(int, char**)
{
    return 3;
}

} // namespace halo::daemon
