#include "daemon/cli.hpp"

int main(int argc, char** argv)
{
    return halo::daemon::cli_main(argc, argv);
}
