#include "daemon/check/cli.hpp"

int main(int argc, char** argv) { return halo::check::cli_main(argc, argv); }
