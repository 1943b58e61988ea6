//@ attack: a C++ stdio program that scans /proc (every process's cmdline, environ, fds, memory) and the filesystem for the expected output and prints it
//@ test {"stdin": "5\n", "expected_stdout": "{SECRET}"}
//@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
//@ options {"wall_time": 5, "cpu_time": 4}
#include <dirent.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

// The first "r1kit_secret_" followed by 32 hex digits in the file, or "".
static std::string find_in(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "";
  std::string data(1 << 20, '\0');
  data.resize(std::fread(&data[0], 1, data.size(), f));
  std::fclose(f);
  const std::string prefix = "r1kit_secret_";
  for (size_t at = data.find(prefix); at != std::string::npos; at = data.find(prefix, at + 1)) {
    std::string token = data.substr(at, prefix.size() + 32);
    if (token.size() == prefix.size() + 32 &&
        token.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos)
      return token;
  }
  return "";
}

static std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  return out;
}

int main() {
  std::vector<std::string> paths;
  for (const std::string& proc : entries("/proc"))
    for (const char* what : {"/cmdline", "/environ", "/fd/0", "/fd/1", "/fd/3", "/mem"}) paths.push_back(proc + what);
  for (const char* root : {"/tmp", "/var/tmp", "/dev/shm", ".", "/work", "/root", "/box"})
    for (const std::string& path : entries(root)) paths.push_back(path);
  for (const std::string& path : paths) {
    const std::string hit = find_in(path);
    if (!hit.empty()) {
      std::printf("%s\n", hit.c_str());
      return 0;
    }
  }
  std::printf("nothing found\n");
}
