// JSON-lines process plugins: one request line per batch on the plugin's stdin, one response line
// on its stdout (docs/rewards.md gives the exact messages). The process is started with
// Boost.Process on one end of a socket pair bound to its stdin and stdout: sockets let us write
// with MSG_NOSIGNAL (a dead plugin cannot SIGPIPE the host) and poll both directions against one
// deadline, so a plugin that stops reading or never answers cannot block the run. Its stderr is
// ours (its logs). After a crash, a timeout or garbage the process is killed if still alive and
// started again at the next batch: its stream state is unknown, so it is never reused.
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/posix.hpp>
#include <boost/process/search_path.hpp>
#include <boost/process/start_dir.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "rewards/plugin/plugin.h"

namespace r1::rewards {

namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxResponseBytes = size_t(256) << 20;

// Python's json module writes NaN, Infinity and -Infinity as bare tokens, which are not JSON;
// outside strings they become the strings "NaN", ... that plugin_result reports as non-finite.
std::string quote_nonfinite_tokens(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < line.size()) out += line[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (std::string_view token : {std::string_view("-Infinity"), std::string_view("Infinity"), std::string_view("NaN")}) {
      if (line.substr(i, token.size()) == token) {
        out += str_cat('"', token, '"');
        i += token.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return str_cat("was killed by signal ", WTERMSIG(status), " (", ::strsignal(WTERMSIG(status)), ")");
  if (WIFEXITED(status)) return str_cat("exited with status ", WEXITSTATUS(status));
  return str_cat("ended with wait status ", status);
}

class ProcessPlugin final : public Reward {
 public:
  ProcessPlugin(ProcessPluginConfig config, std::string_view where) : config_(std::move(config)) {
    const std::string p = config_.path.string();
    exe_ = p.find('/') == std::string::npos ? bp::search_path(p) : boost::filesystem::path(p);
    if (exe_.empty() || ::access(exe_.c_str(), X_OK) != 0)
      throw Error(str_cat(where, ": ", p, ": expected an executable file (an absolute or relative path, or a name in PATH)"));
    if (std::string error = start(); !error.empty()) throw Error(str_cat(where, ": ", error));
  }

  ~ProcessPlugin() override { stop(/*grace=*/true); }

  std::string_view name() const override { return config_.name; }

  std::vector<RewardResult> score(std::span<const Sample> batch) override {
    nlohmann::json request = {{"r1kit_reward", 1}, {"options", config_.options}, {"samples", nlohmann::json::array()}};
    for (const Sample& s : batch) request["samples"].push_back(sample_to_json(s));
    const std::string text = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

    std::lock_guard lock(mutex_);  // one process, one conversation at a time
    std::string failure, detail, line;
    if (!child_.valid() || !child_.running()) {
      if (std::string error = start(); !error.empty()) {
        failure = "plugin_crash";
        detail = str_cat("cannot restart: ", error);
      }
    }
    if (failure.empty()) exchange(text, line, failure, detail);
    std::vector<RewardResult> out;
    if (failure.empty()) out = parse_response(line, batch.size(), failure, detail);
    if (!failure.empty()) {
      stop(/*grace=*/false);  // restarted at the next batch
      log::warn("reward plugin ", config_.name, ": ", failure, ": ", detail, "; ", batch.size(),
                " samples unscored, the plugin restarts at the next batch");
      out.clear();
      for (size_t i = 0; i < batch.size(); ++i)
        out.push_back(RewardResult::make_unscored(failure, str_cat(config_.name, ": ", detail)));
    }
    return out;
  }

 private:
  // Starts the process; "" on success, else why not.
  std::string start() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      return str_cat("socketpair failed: ", std::strerror(errno));
    std::error_code ec;
    const boost::filesystem::path dir = config_.cwd.empty() ? boost::filesystem::current_path()
                                                            : boost::filesystem::path(config_.cwd.string());
    // dup2 onto 0 and 1 clears close-on-exec there; every other descriptor of ours closes at exec.
    child_ = bp::child(bp::exe = exe_, bp::args = config_.args, bp::posix::fd.bind(0, fds[1]),
                       bp::posix::fd.bind(1, fds[1]), bp::start_dir = dir, ec);
    ::close(fds[1]);
    if (ec) {
      ::close(fds[0]);
      return str_cat("cannot start ", exe_.string(), ": ", ec.message());
    }
    fd_ = fds[0];
    if (++num_starts_ > 1) log::info("reward plugin ", config_.name, " restarted (start ", num_starts_, ")");
    if (config_.ready_line) {
      std::string line, failure, detail;
      exchange("", line, failure, detail);
      if (failure.empty()) detail = not_ready(line);
      if (!detail.empty()) {
        stop(/*grace=*/false);
        return detail;
      }
    }
    return "";
  }

  // "" when `line` is {"ready": true}; else why the plugin is not ready.
  static std::string not_ready(const std::string& line) {
    const nlohmann::json hello = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (hello.is_object() && hello.value("ready", false) == true) return "";
    if (hello.is_object() && hello.contains("error") && hello["error"].is_string())
      return hello["error"].get<std::string>();
    return str_cat("expected {\"ready\": true} or {\"error\": ...} as the first line, found ",
                   line.substr(0, 120));
  }

  void stop(bool grace) {
    if (fd_ >= 0) ::close(fd_);  // EOF on its stdin: a well-behaved plugin exits
    fd_ = -1;
    if (!child_.valid()) return;
    const auto until = Clock::now() + std::chrono::milliseconds(grace ? 1000 : 0);
    while (child_.running() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::error_code ec;
    if (child_.running(ec)) child_.terminate(ec);  // SIGKILL, then reaped
    if (child_.valid()) child_.wait(ec);
    child_ = bp::child();
  }

  // Sends `request` and reads one line within the timeout. On failure sets `failure`/`detail`.
  void exchange(const std::string& request, std::string& line, std::string& failure, std::string& detail) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(config_.timeout);
    size_t written = 0;
    std::string buffer;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        failure = "plugin_timeout";
        detail = str_cat("no response within ", config_.timeout, " s");
        return;
      }
      pollfd p{fd_, short(POLLIN | (written < request.size() ? POLLOUT : 0)), 0};
      if (::poll(&p, 1, int(std::min<long long>(left, 1000))) < 0 && errno != EINTR) {
        failure = "plugin_crash";
        detail = str_cat("poll failed: ", std::strerror(errno));
        return;
      }
      if ((p.revents & POLLOUT) && written < request.size()) {
        const ssize_t n = ::send(fd_, request.data() + written, request.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) written += size_t(n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR) return crashed(failure, detail);
      }
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return crashed(failure, detail);
      if (n < 0) continue;
      buffer.append(chunk, size_t(n));
      const size_t newline = buffer.find('\n');
      if (newline == std::string::npos) {
        if (buffer.size() > kMaxResponseBytes) {
          failure = "plugin_garbage";
          detail = str_cat("response longer than ", kMaxResponseBytes, " bytes without a newline");
          return;
        }
        continue;
      }
      if (written < request.size() || newline + 1 != buffer.size()) {
        failure = "plugin_garbage";
        detail = written < request.size() ? "answered before the whole request was sent"
                                          : "more than one line in answer to one request";
        return;
      }
      line = buffer.substr(0, newline);
      return;
    }
  }

  void crashed(std::string& failure, std::string& detail) {
    failure = "plugin_crash";
    std::error_code ec;
    // The socket closed: the process is gone or going; give it a moment to be reaped.
    const auto until = Clock::now() + std::chrono::milliseconds(500);
    while (child_.running(ec) && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    detail = child_.running(ec) ? std::string("closed its stdout") : str_cat("the process ", describe_status(child_.native_exit_code()));
  }

  std::vector<RewardResult> parse_response(const std::string& line, size_t n, std::string& failure, std::string& detail) {
    nlohmann::json response = nlohmann::json::parse(quote_nonfinite_tokens(line), nullptr, /*allow_exceptions=*/false);
    const auto excerpt = [&] { return line.size() > 120 ? line.substr(0, 120) + "..." : line; };
    std::vector<RewardResult> out;
    if (response.is_discarded()) {
      failure = "plugin_garbage";
      detail = str_cat("response is not JSON: ", excerpt());
    } else if (response.is_object() && response.size() == 1 && response.contains("error") &&
               response["error"].is_string()) {
      // The plugin declined the whole batch, and said why: like a C plugin's non-zero return.
      const std::string why = str_cat(config_.name, ": ", response["error"].get<std::string>());
      log::warn("reward plugin ", why, "; ", n, " samples unscored");
      out.assign(n, RewardResult::make_unscored("plugin_error", why));
    } else if (!response.is_object() || !response.contains("results") || !response["results"].is_array()) {
      failure = "plugin_garbage";
      detail = str_cat("expected {\"results\": [...]}, found ", excerpt());
    } else if (response["results"].size() != n) {
      failure = "plugin_garbage";
      detail = str_cat("expected ", n, " results, found ", response["results"].size());
    } else {
      for (const nlohmann::json& item : response["results"]) out.push_back(plugin_result(item, config_.name));
      log_unscored(out);
    }
    return out;
  }

  ProcessPluginConfig config_;
  boost::filesystem::path exe_;
  std::mutex mutex_;
  bp::child child_;
  int fd_ = -1;
  int num_starts_ = 0;
};

}  // namespace

std::unique_ptr<Reward> start_process_plugin(const ProcessPluginConfig& config, std::string_view where) {
  return std::make_unique<ProcessPlugin>(config, where);
}

}  // namespace r1::rewards
