#include "commands.hpp"

int main(int argc, char** argv) { return actsearch::cli::run(argc, argv); }
