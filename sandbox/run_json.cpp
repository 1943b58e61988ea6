// to_json(RunResult): one run as `r1kit sandbox run` prints it (sandbox/judge.h declares it).
// stdout/stderr are the program's bytes and may be invalid UTF-8: they are stored as they are, so
// callers dump with nlohmann::json::error_handler_t::replace (the CLI does), which writes U+FFFD.
#include <nlohmann/json.hpp>

#include "sandbox/judge.h"
#include "sandbox/sandbox.h"

namespace r1::sandbox {

nlohmann::json to_json(const RunResult& result) {
  nlohmann::json out;
  out["verdict"] = verdict_name(result.verdict);
  out["exit_code"] = result.exit_code;
  out["signal"] = result.signal;
  out["cpu_time"] = result.cpu_time;
  out["wall_time"] = result.wall_time;
  out["memory_peak"] = result.memory_peak;
  out["stdout"] = result.stdout_data;
  out["stderr"] = result.stderr_data;
  out["stdout_truncated"] = result.stdout_truncated;
  out["stderr_truncated"] = result.stderr_truncated;
  out["detail"] = result.detail;
  return out;
}

}  // namespace r1::sandbox
