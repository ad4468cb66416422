#include "iotad/cli/main_app.h"

int main(int argc, char** argv) { return iotad::cli::RunMain(argc, argv); }
