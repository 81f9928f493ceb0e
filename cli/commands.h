#pragma once

// Each `oomscope` subcommand: parses its own arguments (argv[0] is the subcommand name) and
// returns the process exit code: 0 success, 2 bad usage or bad input, 3 leak found with
// --fail-on-leak, 1 anything else.
namespace oomscope::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitLeakFound = 3;

int AnalyzeCommand(int argc, char** argv);
int CaptureCommand(int argc, char** argv);
int DemoCommand(int argc, char** argv);

}  // namespace oomscope::cli
